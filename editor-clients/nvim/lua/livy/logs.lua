--- Session and batch logs: livy://log/... buffers filled by livy/readLog pages and livy/log
--- notifications (followed logs, and the lines a running statement writes), and batch states.
local client = require("livy.client")
local output = require("livy.output")

local M = {}

---@type table<string, integer> "session:<profile>#<id>" / "batch:<profile>#<id>" -> bufnr
local buffers = {}
---@type table<integer, { sessionId: integer|nil, batchId: integer|nil, profile: string|nil }>
local following = {}

local function key(kind, profile, id)
  return ("%s:%s#%s"):format(kind, profile or "", tostring(id))
end

local function name(kind, profile, id)
  if kind == "driver" or kind == "executors" then
    return ("livy://sparklog/%s%s/%s"):format(profile and (profile .. "/") or "", tostring(id), kind)
  end
  return ("livy://%s/%s%s"):format(
    kind == "session" and "log" or "batch",
    profile and (profile .. "/") or "",
    tostring(id)
  )
end

--- The log buffer of a session or batch (created with *create*).
---@param kind "session"|"batch"|"driver"|"executors"
---@param profile string|nil
---@param id integer
---@param create boolean
---@return integer|nil
function M.buffer(kind, profile, id, create)
  local k = key(kind, profile, id)
  local buf = buffers[k]
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf
  end
  if not create then
    return nil
  end
  local n = name(kind, profile, id)
  buf = vim.fn.bufnr(n)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, n)
  end
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "livy_log"
  buffers[k] = buf
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = buf,
    once = true,
    callback = function()
      buffers[k] = nil
      local f = following[buf]
      following[buf] = nil
      if f and client.get() then
        client.request("livy/unfollowLog", f, function() end)
      end
    end,
  })
  return buf
end

--- Log lines as buffer lines (a Livy log line may hold newlines).
---@param lines string[]
---@return string[]
function M.split(lines)
  local out = {}
  for _, l in ipairs(lines) do
    vim.list_extend(out, vim.split(l, "\n", { plain = true }))
  end
  return out
end

--- livy/log: append to the log buffer if one is open for it (lines of statements also arrive
--- unasked; they are kept only where someone looks).
---@param p livy.LogNotification
function M.on_log(p)
  local kind, id = "session", p.sessionId
  if p.batchId ~= nil then
    kind, id = "batch", p.batchId
  end
  local buf = M.buffer(kind, p.profile, id, kind == "batch")
  if buf and #p.lines > 0 then
    output.append(buf, M.split(p.lines))
  end
end

---@type table<string, string>
local last_batch_state = {}

--- livy/batchChanged: say when a batch reaches a new state, and keep its buffer's title line.
---@param b livy.BatchInfo
function M.on_batch(b)
  local k = key("batch", b.profile, b.id)
  if last_batch_state[k] == b.state then
    return
  end
  last_batch_state[k] = b.state
  local final = ({ success = vim.log.levels.INFO, dead = vim.log.levels.ERROR, killed = vim.log.levels.WARN })[b.state]
  local msg = ("batch %d%s is %s"):format(b.id, b.name and (" (" .. b.name .. ")") or "", b.state)
  if final then
    client.notify(msg .. ("; its log: %s"):format(name("batch", b.profile, b.id)), final)
  end
  local buf = M.buffer("batch", b.profile, b.id, true)
  output.append(buf, { "── " .. msg })
  if final then
    M.reload_batch(b, msg)
  end
end

--- When a batch ended: its whole log as Livy holds it replaces the streamed lines (Livy's batch log
--- is "stdout: ..." then "stderr: ...", so lines can land above lines already shown).
---@param b livy.BatchInfo
---@param title string
---@param show boolean|nil also open the buffer (creating it), and report an error
function M.reload_batch(b, title, show)
  local params = { batchId = b.id, from = 0, size = 10000 }
  if b.profile then
    params.profile = b.profile
  end
  client.request("livy/readBatchLog", params, function(err, page)
    if err and show then
      return client.notify(client.error_text(err), vim.log.levels.ERROR)
    end
    local buf = M.buffer("batch", b.profile, b.id, show or false)
    if err or not buf then
      return
    end
    local lines = M.split(page.lines)
    table.insert(lines, "── " .. title)
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    if show then
      output.show(buf, true)
    end
  end)
end

--- :Livy logs [follow]: the attached session's log tail in a buffer; with *follow*, new lines
--- stream in until the buffer is wiped.
---@param session_id integer
---@param profile string|nil
---@param follow boolean
function M.open_session(session_id, profile, follow)
  local params = { sessionId = session_id, size = 200 }
  if profile then
    params.profile = profile
  end
  client.request("livy/readLog", params, function(err, page)
    if err then
      client.notify(client.error_text(err), vim.log.levels.ERROR)
      return
    end
    local buf = assert(M.buffer("session", profile, session_id, true))
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.split(page.lines))
    vim.bo[buf].modifiable = false
    output.show(buf, true)
    if follow and not following[buf] then
      local f = { sessionId = session_id, profile = profile }
      client.request("livy/followLog", f, function(ferr)
        if ferr then
          client.notify(client.error_text(ferr), vim.log.levels.ERROR)
        else
          following[buf] = f
        end
      end)
    end
  end)
end

--- The lines of a livy/sparkLog answer: each log under a header naming it and where it was read.
---@param result { logs: { log: string, url: string, lines: string[] }[] }
---@return string[]
function M.spark_log_lines(result)
  local out = {}
  for _, l in ipairs(result.logs) do
    table.insert(out, ("==> %s log (%s) <=="):format(l.log, l.url))
    vim.list_extend(out, M.split(l.lines))
    table.insert(out, "")
  end
  if #out == 0 then
    out = { "(the session reported no log)" }
  end
  return out
end

--- :Livy logs driver|executors: the Spark driver's whole log, or every executor's (livy/sparkLog,
--- beyond Livy's 200 lines), in a livy://sparklog/<id>/<which> buffer. An error (a URL that does
--- not answer from here) is shown as the daemon says it: it names the URL and the profile key.
---@param session_id integer
---@param profile string|nil
---@param which "driver"|"executors"
function M.open_spark(session_id, profile, which)
  local params = { sessionId = session_id, executors = which == "executors" }
  if profile then
    params.profile = profile
  end
  client.request("livy/sparkLog", params, function(err, result)
    if err then
      client.notify(client.error_text(err), vim.log.levels.ERROR)
      return
    end
    local buf = assert(M.buffer(which, profile, session_id, true))
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.spark_log_lines(result))
    vim.bo[buf].modifiable = false
    output.show(buf, true)
  end)
end

--- For tests.
function M.reset()
  buffers, following, last_batch_state = {}, {}, {}
end

return M
