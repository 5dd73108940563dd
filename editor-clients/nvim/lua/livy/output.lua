--- Where results are shown: one livy://output buffer per session (code header, result, elapsed
--- time), virtual text after the sent range, a float on demand, and the quickfix list for errors.
local config = require("livy.config")
local render = require("livy.render")
local state = require("livy.state")

local M = {}

M.ns = vim.api.nvim_create_namespace("livy")

---@type table<string, integer> session key -> output buffer
local buffers = {}
---@type table<string, { buf: integer, id: integer }> task id -> its virtual text's extmark
local marks = {}
---@type { id: integer, uri: string|nil, items: table[] }|nil
local last_qf = nil

local function image_dir()
  return config.get().image_dir or (vim.fn.stdpath("cache") .. "/livy/images")
end

--- The name of a session's output buffer.
---@param session_id integer|nil
---@param profile string|nil
function M.buffer_name(session_id, profile)
  if profile then
    return ("livy://output/%s/%s"):format(profile, tostring(session_id))
  end
  return "livy://output/" .. tostring(session_id)
end

--- The output buffer of a session (created on first use).
---@param session_id integer|nil
---@param profile string|nil
---@return integer bufnr, boolean created
function M.buffer(session_id, profile)
  local key = state.session_key(profile, session_id or -1)
  local buf = buffers[key]
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf, false
  end
  local name = M.buffer_name(session_id, profile)
  buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "livy_output"
  buffers[key] = buf
  return buf, true
end

local function visible_in_tab(buf)
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(win) == buf then
      return win
    end
  end
  return nil
end

--- Show a buffer in a split (without moving the cursor there unless *enter*).
---@param buf integer
---@param enter boolean|nil
function M.show(buf, enter)
  local win = visible_in_tab(buf)
  if win then
    if enter then
      vim.api.nvim_set_current_win(win)
    end
    return win
  end
  -- an output window showing another session's output is reused
  local name = vim.api.nvim_buf_get_name(buf)
  if name:match("^livy://output/") then
    for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w)):match("^livy://output/") then
        vim.api.nvim_win_set_buf(w, buf)
        if enter then
          vim.api.nvim_set_current_win(w)
        end
        return w
      end
    end
  end
  local o = config.get().output
  local vertical = o.split == "left" or o.split == "right"
  local cfg = { split = o.split, win = -1 }
  cfg[vertical and "width" or "height"] = o.size
  return vim.api.nvim_open_win(buf, enter or false, cfg)
end

local function append(buf, lines, highlights)
  vim.bo[buf].modifiable = true
  local first = vim.api.nvim_buf_line_count(buf)
  if first == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == "" then
    first = 0
  end
  vim.api.nvim_buf_set_lines(buf, first, -1, false, lines)
  vim.bo[buf].modifiable = false
  for _, h in ipairs(highlights or {}) do
    vim.api.nvim_buf_set_extmark(
      buf,
      M.ns,
      first + h[1],
      0,
      { end_row = first + h[1], end_col = #lines[h[1] + 1], hl_group = h[2] }
    )
  end
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == buf and win ~= vim.api.nvim_get_current_win() then
      vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
    end
  end
end

--- Append lines to any buffer of ours (log buffers use this too).
M.append = append

local function uri_label(uri, range)
  if not uri then
    return nil
  end
  local path = vim.uri_to_fname(uri)
  local label = vim.fn.fnamemodify(path, ":~:.")
  if range then
    local last = range["end"].line
    if range["end"].character == 0 and last > range.start.line then
      last = last - 1
    end
    label = label .. ":" .. (range.start.line + 1) .. (last > range.start.line and ("-" .. (last + 1)) or "")
  end
  return label
end

--- The code a task ran: as sent from here, else read from its buffer by range.
---@param t livy.Task
---@param out livy.OutputNotification
local function code_of(t, out)
  if t.code then
    return t.code
  end
  local uri, range = out.uri or t.uri, out.range or t.range
  if uri and range then
    local buf = vim.uri_to_bufnr(uri)
    if vim.api.nvim_buf_is_loaded(buf) then
      local last = range["end"].line
      if range["end"].character > 0 or last == range.start.line then
        last = last + 1
      end
      return table.concat(vim.api.nvim_buf_get_lines(buf, range.start.line, last, false), "\n")
    end
  end
  return nil
end

--- The lines of a task's block in the output buffer, with highlight rows.
---@param t livy.Task
---@param out livy.OutputNotification
---@return string[] lines, table highlights, string[] result, string[] images
function M.block(t, out)
  local lines, hls = {}, {}
  local head = {}
  local where = uri_label(out.uri or t.uri, out.range or t.range)
  if where then
    table.insert(head, where)
  end
  if out.statementId then
    table.insert(head, "statement " .. out.statementId)
  end
  table.insert(head, "task " .. out.taskId)
  table.insert(head, os.date("%H:%M:%S", t.sent_at or os.time()))
  table.insert(lines, "▶ " .. table.concat(head, "  "))
  table.insert(hls, { 0, "Title" })
  local code = code_of(t, out)
  if code then
    for _, l in ipairs(vim.split(code, "\n", { plain = true })) do
      table.insert(lines, "  " .. l)
      table.insert(hls, { #lines - 1, "Comment" })
    end
  end
  local result, images = render.result_lines(out, image_dir())
  vim.list_extend(lines, result)
  vim.list_extend(lines, require("livy.insight").link_lines(t))
  table.insert(lines, render.footer(out, t.message))
  table.insert(hls, {
    #lines - 1,
    out.status == "ok" and "DiagnosticOk" or (out.status == "cancelled" and "DiagnosticWarn" or "DiagnosticError"),
  })
  table.insert(lines, "")
  return lines, hls, result, images
end

local function last_line(range)
  local last = range["end"].line
  if range["end"].character == 0 and last > range.start.line then
    last = last - 1
  end
  return last
end

--- Put (or replace) a task's virtual text at the end of its range.
---@param t livy.Task
---@param text string
---@param hl string
function M.virtual_text(t, text, hl)
  if not config.get().virtual_text.enabled or not t.range then
    return
  end
  local buf = t.bufnr
  if not buf and t.uri then
    buf = vim.uri_to_bufnr(t.uri)
  end
  if not buf or not vim.api.nvim_buf_is_loaded(buf) then
    return
  end
  local row = math.min(last_line(t.range), vim.api.nvim_buf_line_count(buf) - 1)
  local opts = { virt_text = { { "  " .. text, hl } }, virt_text_pos = "eol", hl_mode = "combine" }
  local mark = marks[t.taskId]
  if mark and mark.buf == buf then
    opts.id = mark.id
    local pos = vim.api.nvim_buf_get_extmark_by_id(buf, M.ns, mark.id, {})
    if pos[1] then
      row = pos[1] -- the lines moved since: follow them
    end
  end
  local ok, id = pcall(vim.api.nvim_buf_set_extmark, buf, M.ns, row, 0, opts)
  if ok then
    marks[t.taskId] = { buf = buf, id = id }
  end
end

--- A new run replaces the virtual text of earlier runs on the same lines.
---@param bufnr integer
---@param range livy.Range
function M.clear_range(bufnr, range)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  local found = vim.api.nvim_buf_get_extmarks(bufnr, M.ns, { range.start.line, 0 }, { last_line(range), -1 }, {})
  for _, m in ipairs(found) do
    vim.api.nvim_buf_del_extmark(bufnr, M.ns, m[1])
    for task_id, mark in pairs(marks) do
      if mark.buf == bufnr and mark.id == m[1] then
        marks[task_id] = nil
      end
    end
  end
end

--- Show a task's state while it waits or runs.
---@param t livy.Task
function M.progress(t)
  if t.output then
    return
  end
  local text
  local insight = require("livy.insight").text(t)
  if insight and t.state ~= "cancelling" and not state.FINAL[t.state] then
    text = (t.state == "running" and "▶ " or "◷ ") .. insight
  elseif t.state == "queued" then
    text = (t.queuedBehind and t.queuedBehind > 0) and ("◷ queued behind %d"):format(t.queuedBehind) or "◷ queued"
  elseif t.state == "waiting" then
    text = "◷ waiting for Livy"
  elseif t.state == "running" then
    text = t.progress and ("▶ running %d%%"):format(math.floor(t.progress * 100 + 0.5)) or "▶ running"
  elseif t.state == "cancelling" then
    text = "⊘ cancelling"
  else
    return
  end
  M.virtual_text(t, text, "DiagnosticInfo")
end

--- Quickfix entries for a failed statement: the error at the daemon's mapped location, then the
--- traceback as text lines.
---@param t livy.Task
---@param out livy.OutputNotification
local function set_quickfix(t, out)
  local uri, range = out.uri or t.uri, out.range or t.range
  local items = {}
  local first = { text = ("%s: %s"):format(out.ename or "Error", out.evalue or ""), type = "E" }
  if uri and (out.errorRange or range) then
    -- protocol 1.2 names the mapped line (errorRange); before, the diagnostic that follows does
    local at = out.errorRange or range
    first.filename = vim.uri_to_fname(uri)
    first.lnum = at.start.line + 1
    first.col = at.start.character + 1
  else
    first.valid = 0
  end
  table.insert(items, first)
  for _, tb in ipairs(out.traceback or {}) do
    for _, l in ipairs(vim.split(tb, "\n", { plain = true, trimempty = true })) do
      table.insert(items, { text = l, valid = 0 })
    end
  end
  local title = ("Livy: %s (task %s)"):format(out.ename or "error", out.taskId)
  vim.fn.setqflist({}, " ", { title = title, items = items })
  last_qf = { id = vim.fn.getqflist({ id = 0 }).id, uri = uri, items = items }
  if config.get().quickfix.open then
    vim.cmd("botright copen")
    vim.cmd("wincmd p")
  end
end

--- The daemon's diagnostics for a traceback carry the line it mapped into the document: move
--- the quickfix entry there.
---@param result lsp.PublishDiagnosticsParams
function M.on_diagnostics(result)
  if not last_qf or not result or result.uri ~= last_qf.uri then
    return
  end
  for _, d in ipairs(result.diagnostics or {}) do
    if d.source == "livyd" then
      local item = last_qf.items[1]
      item.lnum = d.range.start.line + 1
      item.col = d.range.start.character + 1
      item.text = d.message
      if vim.fn.getqflist({ id = last_qf.id }).id == last_qf.id then
        vim.fn.setqflist({}, "r", { id = last_qf.id, items = last_qf.items })
      end
      return
    end
  end
end

--- A livy/output notification: append the block, virtual text, images, quickfix.
---@param out livy.OutputNotification
function M.on_output(out)
  local t = state.task(out.taskId)
  t.output = out
  t.sessionId = t.sessionId or out.sessionId
  t.profile = t.profile or out.profile
  t.uri = t.uri or out.uri
  t.range = t.range or out.range
  if out.status == "ok" then
    t.state = "available"
  elseif out.status == "cancelled" then
    t.state = "cancelled"
  elseif out.status == "failed" then
    t.state = "failed"
  end
  local lines, hls, result, images = M.block(t, out)
  t.block = lines
  local buf, _ = M.buffer(out.sessionId, out.profile)
  local was_empty = vim.api.nvim_buf_line_count(buf) == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ""
  append(buf, lines, hls)
  local text, hl = render.short(out, result, {
    max_width = config.get().virtual_text.max_width,
    message = t.message,
    may_still_run = t.mayStillRun,
    where = vim.api.nvim_buf_get_name(buf),
    images = images,
  })
  t.short = { text, hl }
  M.virtual_text(t, text, hl)
  if out.status == "error" then
    set_quickfix(t, out)
  end
  if config.get().output.open and was_empty then
    M.show(buf, false)
  end
end

--- After livy/execute answered (notifications may have come first): show what is known.
---@param t livy.Task
function M.settle(t)
  if t.short then
    M.virtual_text(t, t.short[1], t.short[2])
  else
    M.progress(t)
  end
end

--- The task whose range holds the cursor in this buffer (the newest), else the newest output.
---@return livy.Task|nil
function M.task_at_cursor()
  local buf = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local uri = vim.uri_from_bufnr(buf)
  local newest
  for i = #state.data.order, 1, -1 do
    local t = state.data.tasks[state.data.order[i]]
    if t.range and (t.bufnr == buf or t.uri == uri) and row >= t.range.start.line and row <= last_line(t.range) then
      return t
    end
    if not newest and t.output then
      newest = t
    end
  end
  return newest
end

--- A float with the output of the task at the cursor (or the newest one).
function M.float()
  local t = M.task_at_cursor()
  if not t or not t.block then
    vim.notify("Livy: no output yet; run some code first (:Livy run)", vim.log.levels.INFO)
    return
  end
  vim.lsp.util.open_floating_preview(
    t.block,
    "livy_output",
    { border = "rounded", focus_id = "livy_output", max_width = 120, max_height = 30 }
  )
end

--- Open a session's output buffer in a split and enter it.
---@param session_id integer|nil
---@param profile string|nil
function M.open(session_id, profile)
  local buf = M.buffer(session_id, profile)
  M.show(buf, true)
end

--- For tests: forget buffers and marks.
function M.reset()
  buffers, marks, last_qf = {}, {}, nil
end

return M
