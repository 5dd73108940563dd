--- How a livy/output notification reads as text: the result (mime bundle), tables as aligned
--- columns, images saved to files, errors with their traceback, and one short line for virtual
--- text. Pure functions (images apart, which are written to disk); no state, no daemon.
local M = {}

M.TABLE_MIME = "application/vnd.livy.table.v1+json"

local function split_lines(text)
  local lines = vim.split(text, "\n", { plain = true })
  while #lines > 0 and lines[#lines] == "" do
    table.remove(lines)
  end
  for i, l in ipairs(lines) do
    lines[i] = l:gsub("\r$", "")
  end
  return lines
end

local function cell_text(v)
  if v == nil or v == vim.NIL then
    return "null"
  elseif type(v) == "table" then
    return vim.json.encode(v)
  elseif type(v) == "boolean" then
    return v and "true" or "false"
  end
  return (tostring(v):gsub("\n", "\\n"))
end

--- Livy's table (``%table``, Spark SQL results): headers and rows as aligned text columns,
--- numbers right-aligned.
---@param tbl { headers: { name: string, type: string }[]|nil, data: any[][]|nil }
---@return string[]
function M.table_lines(tbl)
  local headers = {}
  for _, h in ipairs(tbl.headers or {}) do
    table.insert(
      headers,
      { name = cell_text(type(h) == "table" and h.name or h), type = type(h) == "table" and h.type or nil }
    )
  end
  local rows = {}
  for _, row in ipairs(tbl.data or {}) do
    local r = {}
    for i = 1, math.max(#headers, type(row) == "table" and #row or 0) do
      r[i] = cell_text(type(row) == "table" and row[i] or nil)
    end
    table.insert(rows, r)
  end
  local ncol = #headers
  for _, r in ipairs(rows) do
    ncol = math.max(ncol, #r)
  end
  local width, numeric = {}, {}
  for c = 1, ncol do
    local h = headers[c]
    width[c] = h and vim.fn.strdisplaywidth(h.name) or 0
    numeric[c] = h ~= nil
      and h.type ~= nil
      and (
          h.type:match("INT")
          or h.type:match("DOUBLE")
          or h.type:match("FLOAT")
          or h.type:match("DECIMAL")
          or h.type:match("LONG")
        )
        ~= nil
    for _, r in ipairs(rows) do
      width[c] = math.max(width[c], vim.fn.strdisplaywidth(r[c] or ""))
    end
  end
  local function pad(text, c)
    local gap = string.rep(" ", width[c] - vim.fn.strdisplaywidth(text))
    return numeric[c] and (gap .. text) or (text .. gap)
  end
  local out = {}
  if #headers > 0 then
    local cells, rule = {}, {}
    for c = 1, ncol do
      table.insert(cells, pad(headers[c] and headers[c].name or "", c))
      table.insert(rule, string.rep("-", width[c]))
    end
    table.insert(out, (table.concat(cells, "  "):gsub("%s+$", "")))
    table.insert(out, table.concat(rule, "  "))
  end
  for _, r in ipairs(rows) do
    local cells = {}
    for c = 1, ncol do
      table.insert(cells, pad(r[c] or "", c))
    end
    table.insert(out, (table.concat(cells, "  "):gsub("%s+$", "")))
  end
  table.insert(out, ("(%d row%s)"):format(#rows, #rows == 1 and "" or "s"))
  return out
end

--- Write a base64 image to *dir* (created 0700; the file 0600, never over an existing one).
---@param b64 string
---@param dir string
---@param name string file name without extension
---@param ext string
---@return string|nil path, string|nil error
function M.save_image(b64, dir, name, ext)
  local ok, bytes = pcall(vim.base64.decode, (b64:gsub("%s", "")))
  if not ok then
    return nil, "the image is not valid base64"
  end
  vim.fn.mkdir(dir, "p", tonumber("700", 8))
  local safe = name:gsub("[^%w%-_.]", "_")
  local path = ("%s/%s.%s"):format(dir, safe, ext)
  local n = 1
  while vim.uv.fs_stat(path) do
    n = n + 1
    path = ("%s/%s-%d.%s"):format(dir, safe, n, ext)
  end
  local fd, err = vim.uv.fs_open(path, "wx", tonumber("600", 8))
  if not fd then
    return nil, ("cannot write %s: %s"):format(path, err)
  end
  vim.uv.fs_write(fd, bytes, 0)
  vim.uv.fs_close(fd)
  return path, nil
end

local IMAGE_TYPES = { ["image/png"] = "png", ["image/jpeg"] = "jpg", ["image/svg+xml"] = "svg" }

--- The result lines of an output (without header and footer), and the image paths written.
---@param out livy.OutputNotification
---@param image_dir string
---@return string[] lines, string[] images
function M.result_lines(out, image_dir)
  local lines, images = {}, {}
  local data = type(out.data) == "table" and out.data or {}
  if out.status == "error" then
    for _, tb in ipairs(out.traceback or {}) do
      vim.list_extend(lines, split_lines(tb))
    end
    -- a Python traceback ends with "ename: evalue"; say it when it does not
    local summary = ("%s: %s"):format(out.ename or "Error", out.evalue or "")
    local evalue_first = summary:match("[^\n]*")
    if not vim.tbl_contains(lines, evalue_first) then
      vim.list_extend(lines, split_lines(summary))
    end
  end
  local shown = false
  if type(data[M.TABLE_MIME]) == "table" then
    vim.list_extend(lines, M.table_lines(data[M.TABLE_MIME]))
    shown = true
  end
  for mime, ext in pairs(IMAGE_TYPES) do
    if type(data[mime]) == "string" then
      local path, err = M.save_image(data[mime], image_dir, out.taskId or "image", ext)
      if path then
        table.insert(images, path)
        table.insert(lines, ("[%s saved to %s]"):format(mime, path))
      else
        table.insert(lines, ("[%s not saved: %s]"):format(mime, err))
      end
      shown = true
    end
  end
  local text = data["text/plain"]
  if type(text) == "string" and text ~= "" and type(data[M.TABLE_MIME]) ~= "table" then
    vim.list_extend(lines, split_lines(text))
  elseif not shown and data["application/json"] ~= nil then
    table.insert(lines, vim.json.encode(data["application/json"]))
  end
  if out.truncated then
    table.insert(
      lines,
      out.fullOutputPath and ("(truncated: the whole output is in %s)"):format(out.fullOutputPath)
        or "(truncated by the daemon)"
    )
  end
  return lines, images
end

---@param ms integer|nil
---@return string|nil
function M.elapsed(ms)
  if type(ms) ~= "number" then
    return nil
  end
  if ms < 1000 then
    return ("%d ms"):format(ms)
  elseif ms < 60000 then
    return ("%.2f s"):format(ms / 1000)
  end
  return ("%dm%02ds"):format(math.floor(ms / 60000), math.floor(ms / 1000) % 60)
end

local ICON = { ok = "✓", error = "✗", cancelled = "⊘", failed = "✗" }

--- The footer line: status and elapsed time.
---@param out livy.OutputNotification
---@param message string|nil why a failed task failed (from livy/taskChanged)
function M.footer(out, message)
  local parts = { ("%s %s"):format(ICON[out.status] or "?", out.status) }
  local e = M.elapsed(out.elapsedMs)
  if e then
    table.insert(parts, "in " .. e)
  end
  local line = table.concat(parts, " ")
  if out.status == "failed" and message then
    line = line .. ": " .. message
  end
  return line
end

---@class livy.ShortOptions
---@field max_width integer
---@field message string|nil why a failed task failed
---@field may_still_run boolean|nil
---@field where string|nil the output buffer's name
---@field images string[]|nil

--- One short line for virtual text: the result when it fits on a line, else how much there is
--- and where (*opts.where*: the output buffer's name).
---@param out livy.OutputNotification
---@param lines string[] the result lines
---@param opts livy.ShortOptions
---@return string text, string hl
function M.short(out, lines, opts)
  local max_width = opts.max_width
  local text, hl
  local suffix = ""
  if out.status == "ok" then
    local content = vim.tbl_filter(function(l)
      return not l:match("^%(truncated")
    end, lines)
    hl = "DiagnosticOk"
    if opts.images and #opts.images > 0 then
      text = "→ image saved to " .. opts.images[1]
    elseif #content == 0 then
      text = "✓"
    elseif #content == 1 and not (type(out.data) == "table" and type(out.data[M.TABLE_MIME]) == "table") then
      text = "→ " .. content[1] -- cut to max_width below
    else
      text = type(out.data) == "table"
          and type(out.data[M.TABLE_MIME]) == "table"
          and ("→ a table of %d rows"):format(#(out.data[M.TABLE_MIME].data or {}))
        or ("→ %d lines"):format(#content)
      suffix = opts.where and (" in " .. opts.where) or ""
    end
  elseif out.status == "error" then
    text = ("✗ %s: %s"):format(out.ename or "Error", (out.evalue or ""):gsub("\n.*", ""))
    hl = "DiagnosticError"
  elseif out.status == "cancelled" then
    text, hl = "⊘ cancelled", "DiagnosticWarn"
    if opts.may_still_run then
      suffix = " (Livy says its code may still run: :Livy restart)"
    end
  else
    text, hl = "✗ failed" .. (opts.message and (": " .. opts.message) or ""), "DiagnosticError"
  end
  if vim.fn.strchars(text) > max_width + 2 then
    text = vim.fn.strcharpart(text, 0, max_width + 1) .. "…"
  end
  text = text .. suffix
  local e = M.elapsed(out.elapsedMs)
  if e then
    text = text .. "  (" .. e .. ")"
  end
  return text, hl
end

return M
