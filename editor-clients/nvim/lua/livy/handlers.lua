--- Handlers for what the daemon sends: livy/* notifications (each checked against the generated
--- schema first: an invalid one is refused, named once, and changes nothing), plus the standard
--- publishDiagnostics handler wrapped so a traceback's mapped line reaches the quickfix list.
local schema = require("livy.schema")
local state = require("livy.state")

local M = {}

---@type table<string, fun(params: table, ctx: lsp.HandlerContext)>
M.on = {}

---@type table<string, true>
local warned = {}

--- Check a notification's params; false (and one warning per method and field) when invalid.
---@param method string
---@param params any
---@return boolean
function M.accept(method, params)
  local ok, errors = schema.check_params(method, params)
  if ok then
    return true
  end
  state.data.refused_messages[method] = (state.data.refused_messages[method] or 0) + 1
  local key = method .. " " .. (errors[1] or "")
  if not warned[key] then
    warned[key] = true
    vim.notify(
      ("Livy: ignored an invalid %s from the daemon (%s); if livyd is newer than this plugin, update it"):format(
        method,
        table.concat(errors, "; ")
      ),
      vim.log.levels.WARN
    )
  end
  return false
end

M.on["livy/output"] = function(p)
  require("livy.output").on_output(p)
end

M.on["livy/taskChanged"] = function(p)
  local t = state.update_task({
    taskId = p.taskId,
    sessionId = p.sessionId,
    profile = p.profile,
    state = p.state,
    progress = p.progress,
    queuedBehind = p.queuedBehind,
    message = p.message,
    mayStillRun = p.mayStillRun,
  })
  require("livy.output").progress(t)
  vim.api.nvim_exec_autocmds("User", { pattern = "LivyTaskChanged", data = p, modeline = false })
end

M.on["livy/progress"] = function(p)
  require("livy.insight").on_progress(p)
end

M.on["livy/sessionChanged"] = function(p)
  state.update_session(p.session)
  vim.api.nvim_exec_autocmds("User", { pattern = "LivySessionChanged", data = p.session, modeline = false })
end

M.on["livy/log"] = function(p)
  require("livy.logs").on_log(p)
end

M.on["livy/batchChanged"] = function(p)
  require("livy.logs").on_batch(p.batch)
end

--- Dispatch one notification through the check and its handler (also what the tests feed the
--- golden examples through). Returns whether it was accepted.
---@param method string
---@param params any
---@param ctx lsp.HandlerContext|nil
---@return boolean
function M.dispatch(method, params, ctx)
  if not M.accept(method, params) then
    return false
  end
  local fn = M.on[method]
  if fn then
    -- a bug here must not cost the next notifications (or the daemon) anything
    local ok, err = xpcall(fn, debug.traceback, params, ctx or {})
    if not ok then
      vim.notify(
        ("Livy: handling %s failed (a livy.nvim bug, please report it):\n%s"):format(method, err),
        vim.log.levels.ERROR
      )
    end
  end
  vim.cmd.redrawstatus({ bang = true, mods = { emsg_silent = true } })
  return true
end

--- The handlers table for vim.lsp.start.
---@return table<string, lsp.Handler>
function M.table()
  local t = {}
  for method in pairs(M.on) do
    t[method] = function(_, params, ctx)
      M.dispatch(method, params, ctx)
    end
  end
  t["textDocument/publishDiagnostics"] = function(err, result, ctx)
    vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx)
    require("livy.output").on_diagnostics(result)
  end
  t["$/progress"] = require("livy.insight").wrap_progress(vim.lsp.handlers["$/progress"])
  return t
end

--- For tests.
function M.reset()
  warned = {}
end

return M
