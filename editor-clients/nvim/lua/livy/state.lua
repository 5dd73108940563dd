--- What the plugin has heard from the daemon: sessions, tasks, the active profile. Only
--- bookkeeping for display (the daemon decides everything); nothing here talks to the daemon.
local M = {}

---@class livy.Task
---@field taskId string
---@field sessionId integer|nil
---@field profile string|nil
---@field state string
---@field progress number|nil
---@field message string|nil
---@field mayStillRun boolean|nil
---@field code string|nil The code as sent (only for tasks sent from this editor).
---@field bufnr integer|nil
---@field uri string|nil
---@field range livy.Range|nil
---@field sent_at number|nil os.time() when sent
---@field output livy.OutputNotification|nil
---@field spark table|nil What livy/progress said (livy.insight): phase, active jobs/stages, links.

M.FINAL = { available = true, cancelled = true, failed = true }

local function fresh()
  return {
    ---@type table<string, livy.SessionInfo>
    sessions = {},
    ---@type string|nil key of the attached session
    attached = nil,
    ---@type table<string, livy.Task>
    tasks = {},
    ---@type string[] task ids in the order they were first heard of
    order = {},
    active_profile = nil,
    ---@type string|nil why the daemon is unusable (protocol mismatch, failed to start)
    refused = nil,
    ---@type table<string, integer> notifications refused by the schema, per method
    refused_messages = {},
  }
end

M.data = fresh()

function M.reset()
  M.data = fresh()
end

--- The key of a session: profile and id (two Livy servers may both have session 0).
---@param profile string|nil
---@param id integer
function M.session_key(profile, id)
  return (profile or "") .. "#" .. tostring(id)
end

---@param info livy.SessionInfo
function M.update_session(info)
  local key = M.session_key(info.profile, info.id)
  M.data.sessions[key] = info
  if info.attached then
    M.data.attached = key
  elseif info.attached == false and M.data.attached == key then
    M.data.attached = nil
  end
end

---@return livy.SessionInfo|nil
function M.attached_session()
  return M.data.attached and M.data.sessions[M.data.attached] or nil
end

---@param id string
---@return livy.Task
function M.task(id)
  local t = M.data.tasks[id]
  if not t then
    t = { taskId = id, state = "queued" }
    M.data.tasks[id] = t
    table.insert(M.data.order, id)
  end
  return t
end

---@param fields table
---@return livy.Task
function M.update_task(fields)
  local t = M.task(fields.taskId)
  for k, v in pairs(fields) do
    t[k] = v
  end
  return t
end

---@return livy.Task[] unfinished tasks, oldest first
function M.unfinished()
  local out = {}
  for _, id in ipairs(M.data.order) do
    local t = M.data.tasks[id]
    if not M.FINAL[t.state] and not t.output then
      table.insert(out, t)
    end
  end
  return out
end

--- A short status for a statusline: "" until the daemon was used.
---@return string
function M.status()
  local d = M.data
  if d.refused then
    return "livy: unavailable"
  end
  local s = M.attached_session()
  local parts = {}
  if s then
    table.insert(parts, ("livy %s%d %s"):format(s.profile and (s.profile .. "#") or "#", s.id, s.state))
  end
  local running, queued, progress, insight = 0, 0, nil, nil
  for _, t in ipairs(M.unfinished()) do
    if t.state == "queued" then
      queued = queued + 1
    else
      running = running + 1
      if t.state == "running" and t.progress then
        progress = t.progress
      end
      insight = require("livy.insight").text(t, { short = true }) or insight
    end
  end
  if insight then
    table.insert(parts, insight)
  elseif running > 0 then
    table.insert(parts, progress and ("running %d%%"):format(math.floor(progress * 100 + 0.5)) or "running")
  end
  if queued > 0 then
    table.insert(parts, ("%d queued"):format(queued))
  end
  if #parts == 0 then
    return next(d.sessions) and "livy: no session attached" or ""
  end
  if not s then
    table.insert(parts, 1, "livy")
  end
  return table.concat(parts, " · ")
end

return M
