--- :checkhealth livy: Neovim version, livyd and its protocol version (without starting a daemon),
--- the generated schema, the active profile and its Livy, and klist for Kerberos profiles.
local M = {}

local TIMEOUT_MS = 20000

--- The daemon command without its daemon flags: { "livyd", "--stdio" } -> { "livyd" }.
---@param cmd string[]
---@return string[]
function M.base_cmd(cmd)
  local base = {}
  for _, w in ipairs(cmd) do
    if vim.startswith(w, "--") then
      break
    end
    table.insert(base, w)
  end
  return base
end

local function run(argv, env)
  local ok, proc = pcall(vim.system, argv, { text = true, env = env, stdin = false })
  if not ok then
    return { code = -1, stdout = "", stderr = tostring(proc) }
  end
  local res = proc:wait(TIMEOUT_MS)
  if res.signal ~= 0 and res.code ~= 0 and (res.stdout or "") == "" then
    res.stderr = (res.stderr or "") .. ("(stopped after %d s)"):format(TIMEOUT_MS / 1000)
  end
  return res
end

local function first_line(text)
  return ((text or ""):match("[^\n]+") or ""):gsub("%s+$", "")
end

local function major(v)
  return tonumber(tostring(v or ""):match("^(%d+)"))
end

local function check_livyd(o)
  local protocol = require("livy.protocol")
  local base = M.base_cmd(o.cmd)
  local exe = base[1]
  if not exe or vim.fn.executable(exe) ~= 1 then
    vim.health.error(
      ("livyd not found: %q is not an executable (cmd = { %s })"):format(exe or "", table.concat(o.cmd, ", ")),
      {
        "install livyd so that `livyd` is on $PATH (pipx install DIR or pip install -e DIR, DIR a livyd checkout)",
        "or set cmd in require('livy').setup({ cmd = { '/path/to/livyd', '--stdio' } })",
      }
    )
    return false
  end
  local res = run(vim.list_extend(vim.deepcopy(base), { "--version", "--json" }), o.cmd_env)
  if res.code ~= 0 then
    vim.health.error(
      ("`%s --version` failed (exit %d): %s"):format(
        table.concat(base, " "),
        res.code,
        first_line(res.stderr ~= "" and res.stderr or res.stdout)
      ),
      { "run it in a shell to see why; reinstall livyd if it does not start" }
    )
    return false
  end
  local ok, info = pcall(vim.json.decode, res.stdout or "")
  if ok and type(info) == "table" then
    local pv = info.protocolVersion or info.protocol_version or info.protocol
    local version = info.version or "?"
    if not pv then
      vim.health.warn(("livyd %s: its --version --json names no protocol version"):format(version))
    elseif major(pv) ~= major(protocol.PROTOCOL_VERSION) then
      vim.health.error(("livyd %s speaks protocol %s, this plugin %s"):format(version, pv, protocol.PROTOCOL_VERSION), {
        (major(pv) or 0) > (major(protocol.PROTOCOL_VERSION) or 0) and "upgrade the plugin (editor-clients/nvim)"
          or "upgrade livyd",
      })
      return false
    else
      vim.health.ok(("livyd %s speaks protocol %s (this plugin: %s)"):format(version, pv, protocol.PROTOCOL_VERSION))
    end
  else
    -- livyd before protocol 1.2 prints "livyd X.Y.Z" and ignores --json
    vim.health.ok(("%s runs"):format(first_line(res.stdout)))
    vim.health.info(
      (
        "this livyd does not report its protocol version (--version --json); the daemon's is checked"
        .. " when it starts (plugin: protocol %s)"
      ):format(protocol.PROTOCOL_VERSION)
    )
  end
  return true
end

local function setting(doctor, key)
  for _, row in ipairs(doctor.settings or {}) do
    if row.key == key then
      return row.value
    end
  end
  return nil
end

local function check_kerberos(doctor)
  local keytab = setting(doctor, "auth.keytab")
  if keytab and keytab ~= "(not set)" then
    vim.health.ok("Kerberos: the profile logs in with its keytab (no kinit needed)")
    return
  end
  if vim.fn.executable("klist") ~= 1 then
    vim.health.error(
      "Kerberos profile, but klist is not installed",
      { "install the Kerberos tools (Debian/Ubuntu: krb5-user; macOS: built in)" }
    )
    return
  end
  local res = run({ "klist", "-s" })
  if res.code == 0 then
    vim.health.ok("Kerberos: klist finds a valid ticket in the credential cache")
  else
    vim.health.error(
      "Kerberos: no valid ticket in the credential cache (klist -s failed)",
      { "run kinit, then :checkhealth livy again" }
    )
  end
end

local function check_profile(o)
  local base = M.base_cmd(o.cmd)
  local argv = vim.list_extend(vim.deepcopy(base), { "doctor", "--json" })
  if o.profile then
    vim.list_extend(argv, { "--profile", o.profile })
  end
  if type(o.settings.url) == "string" then
    vim.list_extend(argv, { "--url", o.settings.url })
  end
  local res = run(argv, o.cmd_env)
  local ok, doctor = pcall(vim.json.decode, res.stdout or "")
  if not ok or type(doctor) ~= "table" then
    vim.health.error(
      ("`livyd doctor` gave no report (exit %d): %s"):format(res.code, first_line(res.stderr)),
      { "run `livyd doctor` in a shell to see the configuration and where each value comes from" }
    )
    return
  end
  local name = doctor.profile
  if name and name ~= vim.NIL then
    local how = (doctor.profile_source and doctor.profile_source ~= vim.NIL)
        and (" (from " .. doctor.profile_source .. ")")
      or ""
    vim.health.ok(("active profile: %s%s"):format(name, how))
  else
    vim.health.ok(
      "active profile: none (no livyd.toml profile chosen; settings come from the environment and defaults)"
    )
  end
  local url = setting(doctor, "url")
  local auth = setting(doctor, "auth.type") or "none"
  vim.health.info(("Livy URL: %s; authentication: %s"):format(url or "(not set)", auth))
  for _, c in ipairs(doctor.checks or {}) do
    if c.ok then
      vim.health.ok(("%s: %s"):format(c.check, c.detail))
    else
      vim.health.error(("%s: %s"):format(c.check, c.detail), { "`livyd doctor` shows the whole configuration" })
    end
  end
  if auth == "kerberos" then
    check_kerberos(doctor)
  end
end

function M.check()
  local config = require("livy.config")
  vim.health.start("livy.nvim")
  if vim.fn.has("nvim-" .. config.MIN_NVIM) == 1 then
    local v = vim.version()
    vim.health.ok(("Neovim %d.%d.%d (needs %s or newer)"):format(v.major, v.minor, v.patch, config.MIN_NVIM))
  else
    vim.health.error(
      ("Neovim %s is too old: livy.nvim needs %s or newer"):format(tostring(vim.version()), config.MIN_NVIM),
      { "upgrade Neovim" }
    )
    return
  end
  local o = config.get()
  local info, err = require("livy.schema").info()
  if info then
    vim.health.ok(("protocol schema %s: %s"):format(info.version or "?", info.dir))
  else
    vim.health.warn(("messages are not checked against the protocol: %s"):format(err))
  end

  vim.health.start("livyd")
  local state = require("livy.state")
  if state.data.refused then
    vim.health.error(state.data.refused)
  end
  local c = require("livy.client").get()
  if c and state.data.server then
    vim.health.ok(
      ("daemon running: livyd %s, protocol %s%s"):format(
        state.data.server.version,
        state.data.server.protocolVersion,
        state.data.server.shared and ", shared" or ""
      )
    )
  end
  if check_livyd(o) then
    vim.health.start("livyd profile")
    check_profile(o)
  end
end

return M
