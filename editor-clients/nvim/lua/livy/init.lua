--- livy.nvim: run PySpark on Apache Livy from Neovim through the livyd daemon.
---
--- Everything Livy is the daemon's (`livyd --stdio`, an LSP server): this plugin picks the code
--- to send, shows what comes back, and offers the daemon's requests as commands.
--- :help livy
local client = require("livy.client")
local config = require("livy.config")
local output = require("livy.output")
local state = require("livy.state")

local M = {}

local configured = false
local augroup = vim.api.nvim_create_augroup("livy", { clear = true })

local function notify(msg, level)
  client.notify(msg, level)
end

local function report(err)
  notify(client.error_text(err), vim.log.levels.ERROR)
end

--- Set the plugin up. Options are checked (unknown ones and wrong types are named); on a bad
--- option nothing changes and the error is shown. Returns whether the options were taken.
---@param opts livy.Options|table|nil
---@return boolean
function M.setup(opts)
  if vim.fn.has("nvim-" .. config.MIN_NVIM) ~= 1 then
    notify(
      ("needs Neovim %s or newer; this is %s"):format(config.MIN_NVIM, tostring(vim.version())),
      vim.log.levels.ERROR
    )
    return false
  end
  local ok, resolved = pcall(config.resolve, opts)
  if ok then
    local previous = config.get()
    config.set(resolved)
    require("livy.schema").reset()
    ok, resolved = pcall(config.check_settings, resolved)
    if not ok then
      config.set(previous)
    end
  end
  if not ok then
    notify(tostring(resolved):gsub("^livy%.setup: ", "setup(): "), vim.log.levels.ERROR)
    return false
  end
  configured = true
  vim.api.nvim_clear_autocmds({ group = augroup })
  local o = config.get()
  if #o.filetypes > 0 then
    vim.api.nvim_create_autocmd("FileType", {
      group = augroup,
      pattern = o.filetypes,
      callback = function(ev)
        if client.attachable(ev.buf) and not state.data.refused then
          client.start(ev.buf)
        end
      end,
    })
    -- buffers opened before setup() (a plugin manager loading on FileType)
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.list_contains(o.filetypes, vim.bo[b].filetype) and client.attachable(b) and not state.data.refused then
        client.start(b)
      end
    end
  end
  if o.codelens then
    vim.api.nvim_create_autocmd({ "LspAttach" }, {
      group = augroup,
      callback = function(ev)
        local c = vim.lsp.get_client_by_id(ev.data.client_id)
        if not c or c.name ~= client.NAME then
          return
        end
        vim.lsp.codelens.refresh({ bufnr = ev.buf })
        vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "TextChanged" }, {
          group = augroup,
          buffer = ev.buf,
          callback = function()
            if client.get() then
              vim.lsp.codelens.refresh({ bufnr = ev.buf })
            end
          end,
        })
      end,
    })
  end
  return true
end

--- Defaults when a command is used before setup().
function M.ensure_setup()
  if not configured then
    M.setup({})
  end
end

--- The statusline text: the attached session, what runs and what waits ("" before any use).
---@return string
function M.status()
  return state.status()
end

-- --------------------------------------------------------------------------- running code

--- The livy/execute params for code from a buffer: its document and range when it is a file, and
--- the statement kind its filetype maps to (`statement_kinds`; none: the session's kind).
---@param bufnr integer
---@param code string
---@param range livy.Range|nil
---@return livy.ExecuteParams
function M.execute_params(bufnr, code, range)
  local params = { code = code }
  if client.attachable(bufnr) then
    params.uri = vim.uri_from_bufnr(bufnr)
    params.range = range
  end
  local kind = config.get().statement_kinds[vim.bo[bufnr].filetype]
  if kind then
    params.kind = kind
  end
  return params
end

--- Send code from a buffer; its task is then shown by range (virtual text) and in the output buffer.
---@param bufnr integer
---@param code string
---@param range livy.Range|nil
local function execute(bufnr, code, range)
  if code:match("^%s*$") then
    notify("nothing to run: the code is empty", vim.log.levels.WARN)
    return
  end
  local params = M.execute_params(bufnr, code, range)
  local uri = params.uri
  if range then
    output.clear_range(bufnr, range)
  end
  client.request("livy/execute", params, function(err, res)
    if err then
      return report(err)
    end
    local t = state.update_task({
      taskId = res.taskId,
      sessionId = res.sessionId,
      profile = res.profile,
      code = code,
      bufnr = bufnr,
      uri = uri,
      range = range,
      sent_at = os.time(),
    })
    output.settle(t)
  end, bufnr)
end

--- The text of lines [first, last] (1-based, inclusive) and their range.
local function lines_range(bufnr, first, last)
  local lines = vim.api.nvim_buf_get_lines(bufnr, first - 1, last, false)
  return table.concat(lines, "\n"),
    { start = { line = first - 1, character = 0 }, ["end"] = { line = last, character = 0 } }
end

--- The charwise visual selection, if the last visual mode was charwise and spans *first*..*last*.
local function charwise_selection(bufnr, first, last)
  if vim.fn.visualmode() ~= "v" then
    return nil
  end
  local s, e = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  if s[2] ~= first or e[2] ~= last then
    return nil
  end
  local text = table.concat(vim.fn.getregion(s, e, { type = "v" }), "\n")
  local function char(row, col)
    local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ""
    col = math.min(col, #line)
    return vim.str_utfindex(line, "utf-16", col, false)
  end
  local end_line = vim.api.nvim_buf_get_lines(bufnr, e[2] - 1, e[2], false)[1] or ""
  local end_col = math.min(e[3], #end_line) -- inclusive byte column -> exclusive
  return text,
    {
      start = { line = s[2] - 1, character = char(s[2], s[3] - 1) },
      ["end"] = { line = e[2] - 1, character = char(e[2], end_col) },
    }
end

--- Run lines *first*..*last* of the current buffer (a visual selection: exactly the selection).
---@param first integer 1-based
---@param last integer 1-based, inclusive
function M.run_range(first, last)
  M.ensure_setup()
  local bufnr = vim.api.nvim_get_current_buf()
  local code, range = charwise_selection(bufnr, first, last)
  if not code then
    code, range = lines_range(bufnr, first, last)
  end
  execute(bufnr, code, range)
end

--- Run the current line.
function M.run_line()
  M.ensure_setup()
  local row = vim.api.nvim_win_get_cursor(0)[1]
  execute(vim.api.nvim_get_current_buf(), lines_range(0, row, row))
end

--- The `# %%` cells of a buffer as the daemon sees them (its "Run cell" code lenses), then
--- *fn(cells)* with { first, last } 1-based inclusive; {} when the buffer has no cell markers.
local function cells(bufnr, fn)
  if not client.attachable(bufnr) then
    return fn({})
  end
  client.with_client(function()
    client.request(
      "textDocument/codeLens",
      { textDocument = { uri = vim.uri_from_bufnr(bufnr) } },
      function(err, lenses)
        if err then
          return report(err)
        end
        local starts = {}
        for _, lens in ipairs(lenses or {}) do
          if lens.command and lens.command.command == "livyd.runCell" then
            table.insert(starts, lens.range.start.line)
          end
        end
        table.sort(starts)
        local n = vim.api.nvim_buf_line_count(bufnr)
        local out = {}
        for i, s in ipairs(starts) do
          table.insert(out, { s + 1, (starts[i + 1] or n) })
        end
        fn(out)
      end,
      bufnr
    )
  end, bufnr)
end

--- Run the `# %%` cell at the cursor; without any cell marker, the whole buffer is the cell.
---@param fallback_line boolean|nil without markers run the current line instead
---@param bufnr integer|nil default: the current buffer
---@param row integer|nil 1-based line in the cell (default: the cursor's)
function M.run_cell(fallback_line, bufnr, row)
  M.ensure_setup()
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  row = row or vim.api.nvim_win_get_cursor(0)[1]
  cells(bufnr, function(found)
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    for _, c in ipairs(found) do
      if row >= c[1] and row <= c[2] then
        return execute(bufnr, lines_range(bufnr, c[1], c[2]))
      end
    end
    if fallback_line then
      return execute(bufnr, lines_range(bufnr, row, row))
    end
    execute(bufnr, lines_range(bufnr, 1, vim.api.nvim_buf_line_count(bufnr)))
  end)
end

--- :Livy run: a range or visual selection, else the cell at the cursor, else the current line.
---@param first integer|nil
---@param last integer|nil
function M.run(first, last)
  if first and last then
    return M.run_range(first, last)
  end
  M.run_cell(true)
end

--- Run the whole buffer.
---@param bufnr integer|nil default: the current buffer
function M.run_file(bufnr)
  M.ensure_setup()
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  execute(bufnr, lines_range(bufnr, 1, vim.api.nvim_buf_line_count(bufnr)))
end

--- For a visual-mode mapping: run exactly the selection.
function M.run_visual()
  local esc = vim.api.nvim_replace_termcodes("<Esc>", true, false, true)
  vim.api.nvim_feedkeys(esc, "nx", false)
  M.run_range(vim.fn.line("'<"), vim.fn.line("'>"))
end

--- Cancel a task: the one at the cursor, else the only unfinished one, else pick.
function M.cancel()
  M.ensure_setup()
  local open = state.unfinished()
  if #open == 0 then
    return notify("nothing to cancel: no statement is queued or running", vim.log.levels.INFO)
  end
  local function go(t)
    client.request("livy/cancel", { taskId = t.taskId }, function(err, res)
      if err then
        return report(err)
      end
      state.update_task({ taskId = t.taskId, state = res.task.state, mayStillRun = res.task.mayStillRun })
      output.progress(state.task(t.taskId))
    end)
  end
  local here = output.task_at_cursor()
  if here and not here.output and not state.FINAL[here.state] then
    return go(here)
  end
  if #open == 1 then
    return go(open[1])
  end
  vim.ui.select(open, {
    prompt = "Cancel which statement?",
    format_item = function(t)
      return ("%s  %s  %s"):format(t.taskId, t.state, (t.code or ""):match("[^\n]*"))
    end,
  }, function(t)
    if t then
      go(t)
    end
  end)
end

-- --------------------------------------------------------------------------- sessions

--- The attached session, or an error saying how to get one.
local function attached()
  local s = state.attached_session()
  if not s then
    notify("no session attached: run some code, or :Livy session new / :Livy session attach", vim.log.levels.WARN)
  end
  return s
end

local function with_profile(params, s)
  if s and s.profile then
    params.profile = s.profile
  end
  return params
end

--- Parse "key=value" words into Livy session (or batch) fields.
---@param words string[]
---@return table|nil fields, string|nil error
function M.parse_fields(words)
  local fields = {}
  for _, w in ipairs(words) do
    local k, v = w:match("^([%w_%.]+)=(.*)$")
    if not k then
      return nil, ("expected key=value, got %q (e.g. kind=pyspark driverMemory=2g)"):format(w)
    end
    if v == "true" or v == "false" then
      v = v == "true"
    elseif v:match("^%-?%d+$") then
      v = tonumber(v)
    end
    local conf_key = k:match("^conf%.(.+)$")
    if conf_key then
      fields.conf = fields.conf or {}
      fields.conf[conf_key] = tostring(v)
    else
      fields[k] = v
    end
  end
  return fields, nil
end

--- :Livy session new [key=value ...]: create a session (attached) from the active profile.
---@param fields table|nil Livy session fields (kind, name, driverMemory, conf, ...)
function M.session_new(fields)
  M.ensure_setup()
  local params = vim.tbl_extend("force", { attach = true }, fields or {})
  client.request("livy/createSession", params, function(err, res)
    if err then
      return report(err)
    end
    state.update_session(vim.tbl_extend("force", res.session, { attached = true }))
    notify(("session %d (%s) is %s and attached"):format(res.session.id, res.session.kind or "?", res.session.state))
  end)
end

local function session_label(s)
  return ("%s%d  %s  %s%s%s"):format(
    s.profile and (s.profile .. "#") or "#",
    s.id,
    s.state,
    s.kind or "",
    s.name and ("  " .. s.name) or "",
    s.attached and "  (attached)" or ""
  )
end

--- Pick one of the Livy server's sessions (vim.ui.select), then *fn(session)*.
local function pick_session(prompt, fn)
  client.request("livy/listSessions", vim.empty_dict(), function(err, res)
    if err then
      return report(err)
    end
    for _, s in ipairs(res.sessions) do
      state.update_session(s)
    end
    if #res.sessions == 0 then
      return notify("the Livy server has no sessions: :Livy session new", vim.log.levels.INFO)
    end
    vim.ui.select(res.sessions, { prompt = prompt, format_item = session_label }, function(s)
      if s then
        fn(s)
      end
    end)
  end)
end

--- :Livy session attach [id]
---@param id integer|nil
function M.session_attach(id)
  M.ensure_setup()
  local function go(params)
    client.request("livy/attachSession", params, function(err, res)
      if err then
        return report(err)
      end
      state.update_session(vim.tbl_extend("force", res.session, { attached = true }))
      notify(("attached session %d (%s)"):format(res.session.id, res.session.state))
    end)
  end
  if id then
    return go({ sessionId = id })
  end
  pick_session("Attach which session?", function(s)
    go(with_profile({ sessionId = s.id }, s))
  end)
end

--- :Livy session kill [id] (default: the attached session)
---@param id integer|nil
function M.session_kill(id)
  M.ensure_setup()
  local s = id and { id = id } or attached()
  if not s then
    return
  end
  client.request("livy/killSession", with_profile({ sessionId = s.id }, s), function(err, res)
    if err then
      return report(err)
    end
    notify(("session %d %s"):format(res.id, res.killed and "killed" or "was already gone"))
  end)
end

--- :Livy session killall: delete every session this daemon created.
function M.session_killall()
  M.ensure_setup()
  client.request("livy/killAllSessions", vim.empty_dict(), function(err, res)
    if err then
      return report(err)
    end
    if #res.killed == 0 then
      return notify("no session of this daemon to kill")
    end
    notify(("killed session%s %s"):format(#res.killed == 1 and "" or "s", table.concat(res.killed, ", ")))
  end)
end

local function float_lines(lines, ft)
  vim.lsp.util.open_floating_preview(
    lines,
    ft or "livy_output",
    { border = "rounded", focus_id = "livy_info", max_width = 120 }
  )
end

--- :Livy session info [id]: the session and the daemon's tasks on it, in a float.
---@param id integer|nil
function M.session_info(id)
  M.ensure_setup()
  local params = id and { sessionId = id } or vim.empty_dict()
  client.request("livy/sessionInfo", params, function(err, res)
    if err then
      return report(err)
    end
    local s = res.session
    state.update_session(s)
    local lines = { ("Session %d%s"):format(s.id, s.name and (" (" .. s.name .. ")") or "") }
    for _, k in ipairs({ "state", "kind", "profile", "appId", "owner", "proxyUser", "sparkUiUrl", "driverLogUrl" }) do
      if s[k] ~= nil then
        table.insert(lines, ("  %-12s %s"):format(k, tostring(s[k])))
      end
    end
    table.insert(lines, ("  %-12s %s"):format("attached", s.attached and "yes" or "no"))
    table.insert(lines, ("Tasks (%d)"):format(#res.tasks))
    for _, t in ipairs(res.tasks) do
      table.insert(lines, ("  %s  %-10s %s"):format(t.taskId, t.state, t.codePreview or ""))
    end
    float_lines(lines)
  end)
end

--- :Livy status: the daemon's state in a float (versions, profiles, sessions, tasks).
function M.daemon_status()
  M.ensure_setup()
  client.request("livy/status", vim.empty_dict(), function(err, res)
    if err then
      return report(err)
    end
    state.data.active_profile = res.activeProfile
    state.data.profiles = res.profiles
    local lines = {
      ("livyd %s, protocol %s, pid %d%s"):format(
        res.version,
        res.protocolVersion,
        res.pid,
        state.data.server and state.data.server.shared and " (shared)" or ""
      ),
      "  workspace    " .. res.workspace,
      "  state        " .. res.stateDir,
      "  Livy         " .. (res.livyUrl or "(not connected yet)"),
      ("Profiles (%d)"):format(#res.profiles),
    }
    for _, p in ipairs(res.profiles) do
      table.insert(
        lines,
        ("  %s%s  %s  %s"):format(p.name, p.name == res.activeProfile and " (active)" or "", p.url or "", p.auth or "")
      )
    end
    table.insert(lines, ("Sessions (%d)"):format(#res.sessions))
    for _, s in ipairs(res.sessions) do
      state.update_session(s)
      table.insert(lines, "  " .. session_label(s))
    end
    local open = vim.tbl_filter(function(t)
      return not state.FINAL[t.state]
    end, res.tasks)
    table.insert(lines, ("Tasks (%d, %d unfinished)"):format(#res.tasks, #open))
    for _, t in ipairs(open) do
      table.insert(lines, ("  %s  %-10s %s"):format(t.taskId, t.state, t.codePreview or ""))
    end
    float_lines(lines)
  end)
end

--- :Livy restart: kill the attached session and create one with the same configuration.
function M.restart()
  M.ensure_setup()
  local s = attached()
  if not s then
    return
  end
  client.request("livy/restartSession", with_profile({ sessionId = s.id }, s), function(err, res)
    if err then
      return report(err)
    end
    state.update_session(vim.tbl_extend("force", res.session, { attached = true }))
    notify(("session %d replaced by session %d (%s)"):format(res.previousSessionId, res.session.id, res.session.state))
  end)
end

-- --------------------------------------------------------------------------- history, logs

--- :Livy history: the attached session's statements; open one's code and output, or run it again.
function M.history()
  M.ensure_setup()
  local s = attached()
  local params = s and with_profile({ sessionId = s.id }, s) or vim.empty_dict()
  client.request("livy/listStatements", params, function(err, res)
    if err then
      return report(err)
    end
    if #res.tasks == 0 then
      return notify("no statements yet")
    end
    local tasks = {}
    for i = #res.tasks, 1, -1 do -- newest first
      table.insert(tasks, res.tasks[i])
    end
    vim.ui.select(tasks, {
      prompt = "Livy statements",
      kind = "livy_history",
      format_item = function(t)
        local known = state.data.tasks[t.taskId]
        local outcome = known and known.output and known.output.status or t.state
        return ("%s  %-10s %s"):format(
          t.statementId and ("#" .. t.statementId) or t.taskId,
          outcome,
          t.codePreview or ""
        )
      end,
    }, function(t)
      if t then
        M.history_action(t)
      end
    end)
  end)
end

--- What to do with one past statement (vim.ui.select).
---@param info livy.TaskInfo
function M.history_action(info)
  vim.ui.select({ "Open code and output", "Run again" }, { prompt = info.codePreview or info.taskId }, function(choice)
    if choice then
      M.statement(info, function(known)
        M._history_do(info, known, choice)
      end)
    end
  end)
end

--- A past statement in full: from the daemon (livy/statement, protocol 1.2) when it has the
--- request, else what this editor saw of it. *fn(task|nil)* gets a livy.Task-like table.
---@param info livy.TaskInfo
---@param fn fun(t: livy.Task|nil)
function M.statement(info, fn)
  local known = state.data.tasks[info.taskId]
  local server = state.data.server
  local supported = server
    and vim.list_contains(server.requests or {}, "livy/statement")
    and require("livy.schema").has_method("livy/statement")
  if not supported then
    return fn(known)
  end
  client.request("livy/statement", { taskId = info.taskId }, function(err, res)
    if err or not res then
      return fn(known)
    end
    local t = vim.tbl_extend("force", known or {}, {
      taskId = info.taskId,
      sessionId = res.sessionId,
      profile = res.profile,
      code = res.code,
      uri = res.uri,
      range = res.range,
      state = res.state,
      sent_at = res.started and math.floor(res.started / 1000) or (known and known.sent_at),
    })
    if res.output then
      local out = vim.tbl_extend("force", res.output, {
        taskId = info.taskId,
        sessionId = res.sessionId,
        statementId = res.statementId,
        uri = res.uri,
        range = res.range,
        profile = res.profile,
        elapsedMs = (res.started and res.completed) and (res.completed - res.started)
          or (known and known.output and known.output.elapsedMs),
      })
      t.block = output.block(t, out)
    end
    fn(t)
  end)
end

---@param info livy.TaskInfo
---@param known livy.Task|nil
---@param choice string
function M._history_do(info, known, choice)
  do
    if choice == "Run again" then
      if not (known and known.code) then
        return notify(
          "only the first line of this statement is known to this editor (it was sent from elsewhere);"
            .. " open its file and run it from there",
          vim.log.levels.WARN
        )
      end
      execute(
        known.bufnr and vim.api.nvim_buf_is_valid(known.bufnr) and known.bufnr or vim.api.nvim_get_current_buf(),
        known.code,
        nil
      )
    elseif choice then
      local lines = known and known.block
      if not lines then
        lines = { "▶ task " .. info.taskId .. "  " .. info.state, "  " .. (info.codePreview or "") }
        table.insert(lines, "(its output did not reach this editor; it is in the daemon's outputs.jsonl)")
      end
      local name = "livy://statement/" .. info.taskId
      local buf = vim.fn.bufnr(name)
      if buf == -1 then
        buf = vim.api.nvim_create_buf(false, true)
        vim.api.nvim_buf_set_name(buf, name)
      end
      vim.bo[buf].modifiable = true
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
      vim.bo[buf].modifiable = false
      vim.bo[buf].filetype = "livy_output"
      vim.bo[buf].bufhidden = "wipe"
      output.show(buf, true)
    end
  end
end

--- :Livy logs [follow]: the attached session's log; *follow* streams new lines.
---@param follow boolean|nil
function M.logs(follow)
  M.ensure_setup()
  local s = attached()
  if s then
    require("livy.logs").open_session(s.id, s.profile, follow or false)
  end
end

--- :Livy output: the attached session's output buffer.
function M.open_output()
  M.ensure_setup()
  local s = state.attached_session()
  if not s then
    local last = state.data.order[#state.data.order]
    local t = last and state.data.tasks[last]
    if not t then
      return notify("no output yet: run some code first (:Livy run)", vim.log.levels.INFO)
    end
    return output.open(t.sessionId, t.profile)
  end
  output.open(s.id, s.profile)
end

--- :Livy float: the output of the statement at the cursor (else the newest) in a float.
function M.float()
  output.float()
end

--- :Livy login [profile]: give the daemon a password (with a user name) or a token for a profile's
--- Livy (a Knox gateway with basic auth, a bearer token). Asked with vim.ui.input and
--- inputsecret(); sent once with livy/setCredentials and kept nowhere in Neovim.
---@param profile string|nil default: the active profile
function M.login(profile)
  M.ensure_setup()
  vim.ui.input({ prompt = "Livy user name (empty for a token): " }, function(user)
    if user == nil then
      return
    end
    local params = {}
    if profile then
      params.profile = profile
    end
    if user == "" then
      params.token = vim.fn.inputsecret("Livy token: ")
      if params.token == "" then
        return notify("login: no token given, nothing changed", vim.log.levels.WARN)
      end
    else
      params.username = user
      params.password = vim.fn.inputsecret(("Password for %s: "):format(user))
    end
    client.set_credentials(params, function(err)
      params = nil
      if err then
        return report(err)
      end
      notify(("credentials set for %s"):format(profile and ("profile " .. profile) or "the active profile"))
    end)
  end)
end

-- --------------------------------------------------------------------------- batches, profiles

--- :Livy batch submit [file] [args...]: submit a file (default: the current buffer's) as a batch.
---@param file string|nil a path the cluster can read (hdfs://..., or local to the Livy server)
---@param args string[]|nil
function M.batch_submit(file, args)
  M.ensure_setup()
  file = file or vim.api.nvim_buf_get_name(0)
  if file == "" then
    return notify(
      "batch submit: give a file (a path the cluster can read), or run it from a saved buffer",
      vim.log.levels.ERROR
    )
  end
  if not file:match("^%a[%w+.-]*://") then
    file = vim.fn.fnamemodify(file, ":p")
  end
  local params = { file = file }
  if args and #args > 0 then
    params.args = args
  end
  client.request("livy/submitBatch", params, function(err, res)
    if err then
      return report(err)
    end
    local b = res.batch
    notify(
      ("batch %d submitted (%s); its log streams into livy://batch/%s%d"):format(
        b.id,
        b.state,
        b.profile and (b.profile .. "/") or "",
        b.id
      )
    )
    local logs = require("livy.logs")
    local buf = logs.buffer("batch", b.profile, b.id, true)
    output.show(buf, false)
    logs.on_batch(b)
  end)
end

local function batch_title(b)
  return ("batch %d%s is %s"):format(b.id, b.name and (" (" .. b.name .. ")") or "", b.state)
end

--- :Livy batch log {id}: a batch's whole log in livy://batch/<id>.
---@param id integer
function M.batch_log(id)
  M.ensure_setup()
  client.request("livy/batchInfo", { batchId = id }, function(err, res)
    if err then
      return report(err)
    end
    require("livy.logs").reload_batch(res.batch, batch_title(res.batch), true)
  end)
end

--- :Livy batch kill {id}: delete (kill) a batch.
---@param id integer
---@param profile string|nil
function M.batch_kill(id, profile)
  M.ensure_setup()
  local params = { batchId = id }
  if profile then
    params.profile = profile
  end
  client.request("livy/killBatch", params, function(err, res)
    if err then
      return report(err)
    end
    notify(("batch %d %s"):format(res.id, res.killed and "killed" or "was already gone"))
  end)
end

--- :Livy batch list: the Livy server's batches (vim.ui.select): show one's log, or kill it.
function M.batch_list()
  M.ensure_setup()
  client.request("livy/listBatches", vim.empty_dict(), function(err, res)
    if err then
      return report(err)
    end
    if #res.batches == 0 then
      return notify("the Livy server has no batches: :Livy batch submit [file]")
    end
    vim.ui.select(res.batches, {
      prompt = "Livy batches",
      kind = "livy_batches",
      format_item = function(b)
        return ("#%d  %-8s %s%s"):format(b.id, b.state, b.name or "", b.appId and ("  " .. b.appId) or "")
      end,
    }, function(b)
      if not b then
        return
      end
      vim.ui.select({ "Show log", "Kill" }, { prompt = batch_title(b) }, function(choice)
        if choice == "Show log" then
          require("livy.logs").reload_batch(b, batch_title(b), true)
        elseif choice == "Kill" then
          M.batch_kill(b.id, b.profile)
        end
      end)
    end)
  end)
end

-- --------------------------------------------------------------------------- development loop

--- :Livy deploy [dry-run]: deploy the project (and add it to the attached session's pyFiles).
---@param dry_run boolean|nil only say what would be deployed
function M.deploy(dry_run)
  M.ensure_setup()
  require("livy.devloop").deploy(dry_run)
end

--- :Livy reload [module]: hot-reload a module or package (default: the current buffer's).
---@param module string|nil
function M.reload(module)
  M.ensure_setup()
  require("livy.devloop").reload(module)
end

--- :Livy hdfs ls [path]: an HDFS directory (default: the remote base dir) in a float.
---@param path string|nil
function M.hdfs_ls(path)
  M.ensure_setup()
  require("livy.devloop").hdfs_ls(path)
end

--- :Livy profile [name]: make a profile active (without a name: pick one).
---@param name string|nil
function M.profile(name)
  M.ensure_setup()
  local function go(n)
    client.request("livy/selectProfile", { profile = n }, function(err, res)
      if err then
        return report(err)
      end
      state.data.active_profile = res.active
      state.data.profiles = res.profiles
      notify(("profile %s is active"):format(res.active or n))
    end)
  end
  if name then
    return go(name)
  end
  client.request("livy/listProfiles", vim.empty_dict(), function(err, res)
    if err then
      return report(err)
    end
    state.data.profiles = res.profiles
    if #res.profiles == 0 then
      return notify("no profiles configured (livyd.toml); see :help livy-profiles", vim.log.levels.INFO)
    end
    vim.ui.select(res.profiles, {
      prompt = "Livy profile",
      format_item = function(p)
        return ("%s  %s  %s%s"):format(p.name, p.url or "", p.auth or "", p.active and "  (active)" or "")
      end,
    }, function(p)
      if p then
        go(p.name)
      end
    end)
  end)
end

return M
