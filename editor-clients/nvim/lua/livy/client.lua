--- The daemon as a Neovim LSP client: `livyd --stdio` started by vim.lsp.start (framing,
--- lifecycle, progress, diagnostics, code lenses and completion are Neovim's own), and a request
--- helper that checks params against the generated schema before they leave.
local config = require("livy.config")
local protocol = require("livy.protocol")
local schema = require("livy.schema")
local state = require("livy.state")

local M = {}

M.NAME = "livyd"

---@type integer|nil
local client_id = nil
---@type fun()[] callbacks waiting for initialize
local waiting = {}

local function notify(msg, level)
  vim.notify("Livy: " .. msg, level or vim.log.levels.INFO)
end
M.notify = notify

local function major(v)
  return tonumber(tostring(v or ""):match("^(%d+)"))
end

--- The workspace root for a buffer: the nearest root marker, else the current directory.
---@param bufnr integer|nil
function M.root(bufnr)
  local o = config.get()
  local name = vim.api.nvim_buf_get_name(bufnr or 0)
  local root = (name ~= "" and not name:match("^%a+://")) and vim.fs.root(bufnr or 0, o.root_markers) or nil
  return root or vim.fn.getcwd()
end

---@return vim.lsp.Client|nil
function M.get()
  if client_id then
    local c = vim.lsp.get_client_by_id(client_id)
    if c and not c:is_stopped() then
      return c
    end
    client_id = nil
  end
  return nil
end

--- Why the protocol cannot be spoken, or nil.
---@param result lsp.InitializeResult
---@return string|nil
function M.protocol_mismatch(result)
  local caps = result and result.capabilities and result.capabilities.experimental
  local livyd = type(caps) == "table" and caps.livyd or nil
  if type(livyd) ~= "table" or not livyd.protocolVersion then
    return ("%s answered initialize without capabilities.experimental.livyd: is it livyd? (cmd = %s)"):format(
      config.get().cmd[1],
      table.concat(config.get().cmd, " ")
    )
  end
  local theirs, ours = major(livyd.protocolVersion), major(protocol.PROTOCOL_VERSION)
  if theirs ~= ours then
    local upgrade = (theirs or 0) > (ours or 0) and "upgrade the Neovim plugin (editor-clients/nvim)" or "upgrade livyd"
    return ("livyd %s speaks protocol %s, this plugin %s: %s"):format(
      livyd.version or "?",
      livyd.protocolVersion,
      protocol.PROTOCOL_VERSION,
      upgrade
    )
  end
  return nil
end

local function on_init(client, result)
  local why = M.protocol_mismatch(result)
  if why then
    state.data.refused = why
    notify(why, vim.log.levels.ERROR)
    client:stop()
    waiting = {}
    return
  end
  state.data.refused = nil
  state.data.server = result.capabilities.experimental.livyd
  local queued = waiting
  waiting = {}
  for _, fn in ipairs(queued) do
    fn()
  end
  -- what the daemon already has (sessions restored from its state, an attached one)
  M.request("livy/status", vim.empty_dict(), function(err, res)
    if err or not res then
      return
    end
    state.data.active_profile = res.activeProfile
    for _, s in ipairs(res.sessions or {}) do
      state.update_session(s)
    end
  end)
end

local function on_exit(code, signal, id)
  if id == client_id then
    client_id = nil
  end
  waiting = {}
  if code ~= 0 and not state.data.refused then
    vim.schedule(function()
      notify(
        ("the daemon exited (code %d%s); it restarts on the next :Livy command. Its messages: :LspLog"):format(
          code,
          signal ~= 0 and (", signal " .. signal) or ""
        ),
        vim.log.levels.WARN
      )
    end)
  end
end

--- The client config handed to vim.lsp.start.
---@param root string
function M.lsp_config(root)
  local o = config.get()
  local init_options = { workspace = root }
  if o.profile then
    init_options.profile = o.profile
  end
  if next(o.settings) then
    init_options.settings = o.settings
  end
  return {
    name = M.NAME,
    cmd = o.cmd,
    cmd_env = o.cmd_env,
    root_dir = root,
    init_options = init_options,
    handlers = require("livy.handlers").table(),
    -- the daemon's code lenses ("Run cell", "Run file") run through the plugin, like :Livy cell,
    -- so their tasks show from the start (virtual text, the code in the output header)
    commands = {
      ["livyd.runCell"] = function(command)
        local a = (command.arguments or {})[1] or {}
        require("livy").run_cell(false, vim.uri_to_bufnr(a.uri), (a.line or 0) + 1)
      end,
      ["livyd.runFile"] = function(command)
        local a = (command.arguments or {})[1] or {}
        require("livy").run_file(vim.uri_to_bufnr(a.uri))
      end,
    },
    on_init = on_init,
    on_exit = on_exit,
  }
end

--- Start the daemon (once per Neovim) and attach *bufnr* to it when given.
---@param bufnr integer|nil
---@return vim.lsp.Client|nil
function M.start(bufnr)
  if state.data.refused then
    notify(state.data.refused, vim.log.levels.ERROR)
    return nil
  end
  local c = M.get()
  if c then
    if bufnr then
      M.attach(bufnr)
    end
    return c
  end
  local root = M.root(bufnr)
  local attach = bufnr ~= nil and M.attachable(bufnr)
  local id = vim.lsp.start(M.lsp_config(root), {
    bufnr = attach and bufnr or nil,
    attach = attach,
    reuse_client = function(existing)
      return existing.name == M.NAME
    end,
  })
  if not id then
    notify(
      ("could not start %s: is livyd installed? (:checkhealth livy)"):format(table.concat(config.get().cmd, " ")),
      vim.log.levels.ERROR
    )
    return nil
  end
  client_id = id
  return vim.lsp.get_client_by_id(id)
end

--- Whether a buffer can be attached (an ordinary file buffer).
---@param bufnr integer
function M.attachable(bufnr)
  return vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= ""
end

--- Attach a buffer (its text is then synced to the daemon: code lenses, completion, diagnostics).
---@param bufnr integer
function M.attach(bufnr)
  local c = M.get()
  if c and M.attachable(bufnr) and not c.attached_buffers[bufnr] then
    vim.lsp.buf_attach_client(bufnr, c.id)
  end
end

--- Run *fn* once the daemon is initialized (starting it if needed).
---@param fn fun(client: vim.lsp.Client)
---@param bufnr integer|nil
function M.with_client(fn, bufnr)
  local c = M.start(bufnr)
  if not c then
    return
  end
  if c.initialized then
    fn(c)
  else
    table.insert(waiting, function()
      local ready = M.get()
      if ready then
        fn(ready)
      end
    end)
  end
end

--- The message of an error answer, the way a person should read it.
---@param err lsp.ResponseError
function M.error_text(err)
  local msg = err.message or tostring(err)
  local data = type(err.data) == "table" and err.data or {}
  if data.code == "auth" then
    msg = msg .. "; :Livy login gives the daemon a password or token (Kerberos: kinit)"
  end
  return msg
end

--- Send a livy/* (or workspace/executeCommand) request. Params are checked against the schema
--- first: a mistake is reported naming the field and nothing is sent. *cb* gets (err, result);
--- without it, an error is shown and a result is ignored.
---@param method string
---@param params table|nil
---@param cb fun(err: lsp.ResponseError|nil, result: any)|nil
---@param bufnr integer|nil
function M.request(method, params, cb, bufnr)
  if method:match("^livy/") then
    local ok, errors = schema.check_params(method, params)
    if not ok then
      local err = { code = -32602, message = ("invalid params for %s: %s"):format(method, table.concat(errors, "; ")) }
      if cb then
        cb(err, nil)
      else
        notify(err.message, vim.log.levels.ERROR)
      end
      return
    end
  end
  M.with_client(function(c)
    c:request(method, params or vim.empty_dict(), function(err, result)
      if not err and method:match("^livy/") then
        local ok, errors = schema.check_result(method, result)
        if not ok then
          err = {
            code = -32603,
            message = ("livyd answered %s with an unexpected result (%s): is livyd newer than this plugin?"):format(
              method,
              table.concat(errors, "; ")
            ),
          }
          result = nil
        end
      end
      if cb then
        cb(err, result)
      elseif err then
        notify(M.error_text(err), vim.log.levels.ERROR)
      end
    end, bufnr)
  end, bufnr)
end

--- Send livy/setCredentials so that the secret reaches no log: Neovim's LSP log writes request
--- params at DEBUG level, so the level is raised to WARN for the send (and put back).
---@param params livy.SetCredentialsParams
---@param cb fun(err: lsp.ResponseError|nil, result: any)
function M.set_credentials(params, cb)
  local ok, errors = schema.check_params("livy/setCredentials", params)
  if not ok then
    return cb({ code = -32602, message = "invalid credentials: " .. table.concat(errors, "; ") }, nil)
  end
  M.with_client(function(c)
    local log = vim.lsp.log
    local level = log.get_level()
    if level < vim.log.levels.WARN then
      log.set_level(vim.log.levels.WARN)
    end
    local sent = pcall(c.request, c, "livy/setCredentials", params, function(err, result)
      cb(err, result)
    end)
    log.set_level(level)
    if not sent then
      cb({ code = -32603, message = "could not send the credentials to the daemon" }, nil)
    end
  end)
end

--- Stop the daemon client (shutdown + exit); *force* kills it.
---@param force boolean|nil
function M.stop(force)
  local c = M.get()
  if c then
    c:stop(force)
  end
  client_id = nil
end

return M
