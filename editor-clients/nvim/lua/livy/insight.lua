--- What Spark does for a running statement (livy/progress, protocol 1.3): the phase before the
--- first result, the active job and stage with task counts, warnings, Spark UI links. The daemon
--- reads and judges everything; this only keeps the latest of each per task and formats it.
local state = require("livy.state")

local M = {}

---@type table<string, true> warnings already shown (task, code, job/stage)
local warned = {}

local DONE_JOB = { SUCCEEDED = true, FAILED = true }
local DONE_STAGE = { COMPLETE = true, SKIPPED = true, FAILED = true }

---@return integer milliseconds, monotonic
local function now_ms()
  return vim.uv.now()
end

--- "12/40 tasks, 4 running, 1 failed"
---@param p table a job or stage livy/progress
---@return string
function M.counts(p)
  local s = ("%d/%d tasks"):format(p.completedTasks or 0, p.numTasks or 0)
  if (p.activeTasks or 0) > 0 then
    s = s .. (", %d running"):format(p.activeTasks)
  end
  if (p.failedTasks or 0) > 0 then
    s = s .. (", %d failed"):format(p.failedTasks)
  end
  return s
end

--- "1:05", "12 s"
---@param seconds number
---@return string
function M.duration(seconds)
  seconds = math.max(0, math.floor(seconds + 0.5))
  if seconds < 60 then
    return ("%d s"):format(seconds)
  end
  if seconds < 3600 then
    return ("%d:%02d"):format(math.floor(seconds / 60), seconds % 60)
  end
  return ("%d:%02d:%02d"):format(math.floor(seconds / 3600), math.floor(seconds / 60) % 60, seconds % 60)
end

--- The one line for a task's progress: the active stage (with its job), else the running job,
--- else the current phase and how long it has lasted; nil when nothing was heard.
---@param t livy.Task
---@param opts { short: boolean|nil, now: integer|nil }|nil short: without job/stage names (statusline)
---@return string|nil
function M.text(t, opts)
  opts = opts or {}
  local sp = t.spark
  if not sp then
    return nil
  end
  local job = sp.job_order[#sp.job_order] and sp.jobs[sp.job_order[#sp.job_order]]
  local stage = sp.stage_order[#sp.stage_order] and sp.stages[sp.stage_order[#sp.stage_order]]
  local function named(what, p)
    if opts.short or not p.name or p.name == "" then
      return what
    end
    return what .. " " .. p.name
  end
  if stage then
    local s = named(("stage %d.%d"):format(stage.stageId, stage.attemptId or 0), stage) .. ": " .. M.counts(stage)
    local of = (stage.jobIds and stage.jobIds[1]) or (job and job.jobId)
    if of then
      s = ("job %d · %s"):format(of, s)
    end
    return s
  end
  if job then
    return named(("job %d"):format(job.jobId), job) .. ": " .. M.counts(job)
  end
  -- "waiting behind other statements" is over once the task runs, even before the daemon's
  -- next phase (running) arrives
  if sp.phase and not (sp.phase.name == "waiting" and t.state == "running") then
    local seconds = ((opts.now or now_ms()) - sp.phase.at) / 1000
    return ("%s · %s"):format(sp.phase.message, M.duration(seconds))
  end
  return nil
end

local function forget(order, map, key)
  map[key] = nil
  for i, k in ipairs(order) do
    if k == key then
      table.remove(order, i)
      return
    end
  end
end

local function remember(order, map, key, p)
  if not map[key] then
    table.insert(order, key)
  end
  map[key] = p
end

---@type uv.uv_timer_t|nil ticks the elapsed time of current phases (virtual text, statusline)
local ticker = nil

--- Tasks still in a phase (no job or stage yet, no result).
local function in_phase()
  local out = {}
  for _, t in ipairs(state.unfinished()) do
    local sp = t.spark
    if sp and sp.phase and #sp.job_order == 0 and #sp.stage_order == 0 then
      table.insert(out, t)
    end
  end
  return out
end

local function tick()
  local ts = in_phase()
  if #ts == 0 and ticker then
    ticker:stop()
    ticker:close()
    ticker = nil
    return
  end
  for _, t in ipairs(ts) do
    require("livy.output").progress(t)
  end
  vim.cmd.redrawstatus({ bang = true, mods = { emsg_silent = true } })
end

local function start_ticker()
  if ticker then
    return
  end
  ticker = assert(vim.uv.new_timer())
  ticker:start(1000, 1000, vim.schedule_wrap(tick))
end

--- A livy/progress notification (already checked against the schema).
---@param p table
function M.on_progress(p)
  local t = state.task(p.taskId)
  t.sessionId = t.sessionId or p.sessionId
  t.profile = t.profile or p.profile
  local sp = t.spark
  if not sp then
    sp = { jobs = {}, job_order = {}, stages = {}, stage_order = {}, links = {} }
    t.spark = sp
  end
  if p.kind == "phase" then
    sp.phase = { name = p.phase, message = p.message, at = now_ms() }
    start_ticker()
  elseif p.kind == "spark_ui" then
    sp.ui = p.url
  elseif p.kind == "job" and p.jobId then
    if p.url and not sp.links[p.jobId] then
      sp.links[p.jobId] = { jobId = p.jobId, name = p.name, url = p.url }
    end
    if DONE_JOB[p.status] then
      forget(sp.job_order, sp.jobs, p.jobId)
    else
      remember(sp.job_order, sp.jobs, p.jobId, p)
    end
  elseif p.kind == "stage" and p.stageId then
    local key = ("%d.%d"):format(p.stageId, p.attemptId or 0)
    if DONE_STAGE[p.status] or p.status == "PENDING" then
      forget(sp.stage_order, sp.stages, key)
    else
      remember(sp.stage_order, sp.stages, key, p)
    end
  elseif p.kind == "warning" then
    local key = table.concat({ p.taskId, p.code or "", tostring(p.jobId or ""), tostring(p.stageId or "") }, " ")
    if not warned[key] then
      warned[key] = true
      vim.notify(("Livy (task %s): %s"):format(p.taskId, p.message), vim.log.levels.WARN)
    end
  end
  require("livy.output").progress(t)
  vim.api.nvim_exec_autocmds("User", { pattern = "LivyProgress", data = p, modeline = false })
end

--- Lines for the output block: the Spark UI page of each job of the statement.
---@param t livy.Task
---@return string[]
function M.link_lines(t)
  local out = {}
  if not t.spark then
    return out
  end
  local ids = vim.tbl_keys(t.spark.links)
  table.sort(ids)
  for _, id in ipairs(ids) do
    local l = t.spark.links[id]
    table.insert(out, ("  Spark job %d%s: %s"):format(id, l.name and (" " .. l.name) or "", l.url))
  end
  return out
end

--- The $/progress handler, wrapped: a livyd task's report says what this module knows (the
--- phase with its elapsed time, the active job/stage with task counts) so fidget.nvim and
--- vim.lsp.status() show it.
---@param handler lsp.Handler
---@return lsp.Handler
function M.wrap_progress(handler)
  return function(err, result, ctx, cfg)
    local token = result and result.token
    local value = result and result.value
    if type(token) == "string" and type(value) == "table" and value.kind == "report" then
      local id = token:match("^livyd%-(.+)$")
      local t = id and state.data.tasks[id]
      local text = t and M.text(t)
      if text then
        value.message = text
      end
    end
    return handler(err, result, ctx, cfg)
  end
end

--- For tests.
function M.reset()
  warned = {}
  if ticker then
    ticker:stop()
    ticker:close()
    ticker = nil
  end
end

return M
