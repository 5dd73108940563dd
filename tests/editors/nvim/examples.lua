-- protocol/examples/* through the plugin: notifications through the same dispatch the LSP
-- handlers use, request params through the check every request passes before it is sent, results
-- through the check every answer passes. Decoded the way vim.lsp decodes frames (null -> nil).
-- args: OUT.json PLUGIN_DIR EXAMPLE.json...
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local R = H.results

H.run(function()
  assert(require("livy").setup({ output = { open = false } }))
  local handlers = require("livy.handlers")
  local schema = require("livy.schema")
  local state = require("livy.state")
  local notifications = {}
  for _, m in ipairs(require("livy.protocol").NOTIFICATIONS) do
    notifications[m] = true
  end
  assert(schema.info(), "the protocol schema was not found")
  R.examples = {}
  for i = 3, #arg do
    local f = assert(io.open(arg[i]))
    local ex = vim.json.decode(f:read("*a"))
    f:close()
    local message = vim.json.decode(vim.json.encode(ex.message), { luanil = { object = true } })
    local ok, errors
    if ex.part == "result" then
      ok, errors = schema.check_result(ex.method, message.result)
    elseif notifications[ex.method] then
      local before = vim.deepcopy(state.data.refused_messages)
      ok = handlers.dispatch(ex.method, message.params, { method = ex.method })
      errors = {}
      if not ok then
        assert((state.data.refused_messages[ex.method] or 0) > (before[ex.method] or 0))
        errors = select(2, schema.check_params(ex.method, message.params))
      end
    else
      ok, errors = schema.check_params(ex.method, message.params)
    end
    table.insert(R.examples, { file = arg[i], accepted = ok, errors = errors })
  end
  R.refused = state.data.refused_messages
  -- the valid livy/progress example, for a task still running: the progress text fidget shows
  -- (the $/progress report, rewritten) and status() say its stage and task counts
  for i = 3, #arg do
    if arg[i]:match("livy_progress%-params%-valid%.json$") then
      local f = assert(io.open(arg[i]))
      local ex = vim.json.decode(f:read("*a"), { luanil = { object = true } })
      f:close()
      local p = ex.message.params
      p.taskId = "t-progress"
      assert(handlers.dispatch("livy/taskChanged", { taskId = p.taskId, sessionId = p.sessionId, state = "running" }))
      R.progress_accepted = handlers.dispatch("livy/progress", p, { method = "livy/progress" })
      R.progress_text = require("livy.insight").text(state.task(p.taskId))
      R.status = state.status()
      local seen
      local wrapped = require("livy.insight").wrap_progress(function(_, result)
        seen = result.value.message
      end)
      wrapped(nil, { token = "livyd-" .. p.taskId, value = { kind = "report", message = p.message } }, {})
      R.report_message = seen
    end
  end
  -- the statement kind follows the buffer's filetype (statement_kinds)
  local b = vim.api.nvim_create_buf(true, false)
  R.kinds = {}
  for _, ft in ipairs({ "sql", "scala", "r", "python" }) do
    vim.bo[b].filetype = ft
    R.kinds[ft] = require("livy").execute_params(b, "1", nil).kind or vim.NIL
  end
  R.output_lines = H.buffer_lines(require("livy.output").buffer_name(3, nil)) or {}
  R.task_states = {}
  for id, t in pairs(state.data.tasks) do
    R.task_states[id] = t.state
  end
end)
