--- The development loop (protocol 1.3): :Livy deploy, :Livy reload, :Livy hdfs ls.
---
--- The daemon finds the project (its livyd.toml or git root), zips, uploads, adds pyFiles and
--- reloads; this module picks the session and the module, and shows what the daemon did.
local client = require("livy.client")
local state = require("livy.state")

local M = {}

local function notify(msg, level)
  client.notify(msg, level)
end

--- An error answer, named for a daemon older than the request.
local function report(method, err)
  if err.code == -32601 then
    local server = state.data.server or {}
    return notify(
      ("this livyd (%s, protocol %s) has no %s: upgrade livyd to protocol 1.3 or newer"):format(
        server.version or "?",
        server.protocolVersion or "?",
        method
      ),
      vim.log.levels.ERROR
    )
  end
  local data = type(err.data) == "table" and err.data or {}
  if data.code == "no-session" and method == "livy/reloadModule" then
    return notify(
      "reload: no session attached: run some code, or :Livy session new / :Livy session attach",
      vim.log.levels.WARN
    )
  end
  notify(client.error_text(err), vim.log.levels.ERROR)
end

local function with_profile(params, s)
  if s and s.profile then
    params.profile = s.profile
  end
  return params
end

local function list(names, max)
  max = max or 8
  local shown = vim.list_slice(names, 1, max)
  local text = table.concat(shown, ", ")
  if #names > max then
    text = text .. (", and %d more"):format(#names - max)
  end
  return text
end

--- What the daemon said the project is (root, package and script names), from livy/deploy.
---@class livy.Project
---@field root string
---@field packages string[]
---@field scripts string[] file names (job.py)

---@type livy.Project|nil
M.project = nil

---@param res livy.DeployResult
local function remember(res)
  local p = { root = res.root, packages = {}, scripts = {} }
  for _, f in ipairs(res.files or {}) do
    table.insert(f.kind == "package" and p.packages or p.scripts, f.name)
  end
  M.project = p
end

-- --------------------------------------------------------------------------- deploy

--- The lines that say what a livy/deploy did.
---@param res livy.DeployResult
---@param session_id integer|nil the session the files were added to
---@return string[]
function M.deploy_lines(res, session_id)
  local files = res.files or {}
  local dry = res.via == "dry-run"
  if #files == 0 then
    return {
      ("nothing to deploy in %s: no scripts or packages found"):format(res.root)
        .. " (see deploy.scripts, deploy.package_dirs and deploy.packages in livyd.toml)",
    }
  end
  local where = ({
    webhdfs = "through WebHDFS to " .. (res.remoteDir or "the remote dir"),
    ["livy-upload"] = "through Livy's upload-pyfile",
    none = "(nothing sent)",
    ["dry-run"] = "(dry run: nothing sent)",
  })[res.via] or res.via
  local lines = { ("%s %s %s"):format(dry and "would deploy" or "deployed", res.root, where) }
  local sent, kept = {}, {}
  for _, f in ipairs(files) do
    local label = ("%s (%s)"):format(f.name, f.kind)
    table.insert((dry or f.uploaded) and sent or kept, label)
  end
  if #sent > 0 then
    table.insert(lines, (dry and "  would send: " or "  uploaded: ") .. list(sent))
  end
  if #kept > 0 then
    table.insert(lines, "  unchanged, not sent again: " .. list(kept))
  end
  if session_id and not dry then
    table.insert(lines, ("  added to session %d's pyFiles"):format(session_id))
  end
  local excluded = res.excluded or {}
  if #excluded > 0 then
    local left = vim.tbl_map(function(e)
      return ("%s (%s)"):format(e.path, e.reason)
    end, excluded)
    table.insert(lines, "  left out: " .. list(left, 5))
  end
  return lines
end

--- :Livy deploy [dry-run]: deploy the workspace's project; with an attached session its files
--- are added to that session's pyFiles too (without WebHDFS that is the only way).
---@param dry_run boolean|nil
function M.deploy(dry_run)
  local s = state.attached_session()
  local params = with_profile({}, s)
  if dry_run then
    params.dryRun = true
  elseif s then
    params.sessionId = s.id
  end
  if next(params) == nil then
    params = vim.empty_dict()
  end
  client.request("livy/deploy", params, function(err, res)
    if err then
      return report("livy/deploy", err)
    end
    remember(res)
    notify(table.concat(M.deploy_lines(res, params.sessionId), "\n"))
  end)
end

-- --------------------------------------------------------------------------- reload

--- The dotted module name of a Python file of the project: its package path (directories with
--- __init__.py, the way Python imports it) when the top package is one of the project's, else
--- a script's name; nil when the project cannot name it.
---@param path string
---@param project livy.Project
---@return string|nil
function M.module_of(path, project)
  if path == "" or path:match("^%a[%w+.-]*://") or not path:match("%.py$") then
    return nil
  end
  local function real(p)
    p = vim.fn.fnamemodify(p, ":p")
    return vim.fs.normalize(vim.uv.fs_realpath(p) or p)
  end
  path = real(path)
  local root = real(project.root)
  if path:sub(1, #root + 1) ~= root .. "/" then
    return nil
  end
  local base = vim.fs.basename(path)
  local parts = base == "__init__.py" and {} or { base:sub(1, -4) }
  local dir = vim.fs.dirname(path)
  while #dir > #root and vim.uv.fs_stat(dir .. "/__init__.py") do
    table.insert(parts, 1, vim.fs.basename(dir))
    dir = vim.fs.dirname(dir)
  end
  if #parts > 0 and vim.list_contains(project.packages, parts[1]) and (#parts > 1 or base == "__init__.py") then
    return table.concat(parts, ".")
  end
  if vim.list_contains(project.scripts, base) then
    return base:sub(1, -4)
  end
  return nil
end

--- *fn(project|nil)*: the project as the daemon sees it now (a dry-run livy/deploy).
---@param profile string|nil
---@param fn fun(project: livy.Project|nil)
local function fetch_project(profile, fn)
  client.request("livy/deploy", with_profile({ dryRun = true }, { profile = profile }), function(err, res)
    if err then
      report("livy/deploy", err)
      return fn(nil)
    end
    remember(res)
    fn(M.project)
  end)
end

--- The lines (and the level) that say what a livy/reloadModule did.
---@param res livy.ReloadModuleResult
---@return string[] lines, integer level
function M.reload_lines(res)
  local lines, level = {}, vim.log.levels.INFO
  for _, r in ipairs(res.results) do
    local what = r.mode == "package" and ("package " .. r.target) or r.target
    local via = r.via ~= "inline" and (" (through %s)"):format(r.via) or ""
    if #r.reloaded > 0 then
      table.insert(lines, ("reloaded %s in session %d%s: %s"):format(what, res.sessionId, via, list(r.reloaded, 12)))
    else
      table.insert(
        lines,
        ("reloaded %s in session %d%s: no module of it was loaded there"):format(what, res.sessionId, via)
      )
    end
    for _, f in ipairs(r.failed or {}) do
      level = vim.log.levels.ERROR
      table.insert(lines, ("  %s failed: %s"):format(f.module, f.error))
    end
  end
  return lines, level
end

--- Write the modified buffers of *module* (a module or a package) to disk: the daemon reloads
--- what is on disk.
local function save_buffers(module, project)
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].modified and vim.bo[b].buftype == "" then
      local name = M.module_of(vim.api.nvim_buf_get_name(b), project)
      if name and (module == nil or name == module or vim.startswith(name, module .. ".")) then
        vim.api.nvim_buf_call(b, function()
          vim.cmd("silent update")
        end)
      end
    end
  end
end

local function send_reload(s, module, project)
  if project then
    save_buffers(module, project)
  end
  -- no session known here: the daemon's attached one (it says when there is none)
  local params = s and with_profile({ sessionId = s.id }, s) or {}
  params.module = module
  if next(params) == nil then
    params = vim.empty_dict()
  end
  client.request("livy/reloadModule", params, function(err, res)
    if err then
      return report("livy/reloadModule", err)
    end
    local lines, level = M.reload_lines(res)
    notify(table.concat(lines, "\n"), level)
  end)
end

--- :Livy reload [module]: hot-reload a module or a whole package of the project into the
--- attached session (none known here: the daemon's). Without a name: the current buffer's
--- module when the project names it, else asked (vim.ui.input; empty: every package of the
--- project). Modified buffers of what is reloaded are written first.
---@param module string|nil
function M.reload(module)
  local s = state.attached_session()
  local bufname = vim.api.nvim_buf_get_name(0)
  fetch_project(s and s.profile, function(project)
    if not project then
      return
    end
    if module then
      return send_reload(s, module, project)
    end
    local name = M.module_of(bufname, project)
    if name then
      return send_reload(s, name, project)
    end
    vim.ui.input({
      prompt = "Livy reload: module or package (empty: every package of the project): ",
      completion = "customlist,v:lua.require'livy.devloop'.complete_input",
    }, function(answer)
      if answer == nil then
        return
      end
      answer = vim.trim(answer)
      send_reload(s, answer ~= "" and answer or nil, project)
    end)
  end)
end

--- What :Livy reload completes: the project's packages and scripts (as last seen from the
--- daemon) and the current buffer's module.
---@param arglead string
---@return string[]
function M.modules(arglead)
  if not M.project and client.get() then
    -- first use: ask the daemon (a dry-run deploy: local work only), waiting a moment for it
    local s, done = state.attached_session(), false
    fetch_project(s and s.profile, function()
      done = true
    end)
    vim.wait(1500, function()
      return done
    end, 10)
  end
  local p = M.project
  if not p then
    return {}
  end
  local names = {}
  local mine = M.module_of(vim.api.nvim_buf_get_name(0), p)
  if mine then
    table.insert(names, mine)
  end
  vim.list_extend(names, p.packages)
  for _, script in ipairs(p.scripts) do
    table.insert(names, (script:gsub("%.py$", "")))
  end
  local seen, out = {}, {}
  for _, n in ipairs(names) do
    if not seen[n] and vim.startswith(n, arglead) then
      seen[n] = true
      table.insert(out, n)
    end
  end
  return out
end

--- vim.ui.input completion ("customlist").
function M.complete_input(arglead)
  return M.modules(arglead)
end

-- --------------------------------------------------------------------------- hdfs

--- The float lines of a livy/hdfsList answer.
---@param path string|nil
---@param res livy.HdfsListResult
---@return string[]
function M.hdfs_lines(path, res)
  local lines = { ("HDFS %s (%d)"):format(path or "(the remote base dir)", #res.entries) }
  for _, e in ipairs(res.entries) do
    local when = (e.modificationTime or 0) > 0 and os.date("%Y-%m-%d %H:%M", math.floor(e.modificationTime / 1000))
      or ""
    table.insert(
      lines,
      ("  %s %-4s %-10s %10d  %-16s %s%s"):format(
        e.type == "DIRECTORY" and "d" or "-",
        e.permission or "",
        e.owner or "",
        e.length or 0,
        when,
        e.path,
        e.type == "DIRECTORY" and "/" or ""
      )
    )
  end
  if #res.entries == 0 then
    table.insert(lines, "  (empty)")
  end
  return lines
end

--- :Livy hdfs ls [path]: a directory on HDFS (default: the remote base dir; relative paths are
--- relative to it) in a float.
---@param path string|nil
function M.hdfs_ls(path)
  local s = state.attached_session()
  local params = with_profile({}, s)
  params.path = path
  if next(params) == nil then
    params = vim.empty_dict()
  end
  client.request("livy/hdfsList", params, function(err, res)
    if err then
      return report("livy/hdfsList", err)
    end
    vim.lsp.util.open_floating_preview(
      M.hdfs_lines(path, res),
      "livy_output",
      { border = "rounded", focus_id = "livy_hdfs", max_width = 140 }
    )
  end)
end

return M
