--- :Livy {subcommand}: parsing and completion. Each subcommand calls the public API (livy.init).
local M = {}

local function livy()
  return require("livy")
end

local function notify(msg, level)
  vim.notify("Livy: " .. msg, level or vim.log.levels.ERROR)
end

local function int_arg(word, what)
  if word == nil then
    return nil, true
  end
  local n = tonumber(word)
  if not n or n ~= math.floor(n) or n < 0 then
    notify(("%s: expected an id (a whole number), got %q"):format(what, word))
    return nil, false
  end
  return n, true
end

---@class livy.Subcommand
---@field run fun(args: string[], cmd: table)
---@field complete? fun(arglead: string, args: string[]): string[]
---@field doc string

local session_actions = {
  new = function(args)
    local fields, err = livy().parse_fields(args)
    if not fields then
      return notify("session new: " .. err)
    end
    livy().session_new(fields)
  end,
  attach = function(args)
    local id, ok = int_arg(args[1], "session attach")
    if ok then
      livy().session_attach(id)
    end
  end,
  kill = function(args)
    local id, ok = int_arg(args[1], "session kill")
    if ok then
      livy().session_kill(id)
    end
  end,
  killall = function()
    livy().session_killall()
  end,
  info = function(args)
    local id, ok = int_arg(args[1], "session info")
    if ok then
      livy().session_info(id)
    end
  end,
}

local function session_ids()
  local out = {}
  for _, s in pairs(require("livy.state").data.sessions) do
    table.insert(out, tostring(s.id))
  end
  table.sort(out)
  return out
end

---@type table<string, livy.Subcommand>
M.subcommands = {
  run = {
    doc = "run the range or visual selection, else the cell at the cursor, else the line",
    run = function(_, cmd)
      if cmd.range > 0 then
        livy().run(cmd.line1, cmd.line2)
      else
        livy().run()
      end
    end,
  },
  cell = {
    doc = "run the # %% cell at the cursor (no markers: the whole buffer)",
    run = function()
      livy().run_cell()
    end,
  },
  line = {
    doc = "run the current line",
    run = function()
      livy().run_line()
    end,
  },
  file = {
    doc = "run the whole buffer",
    run = function()
      livy().run_file()
    end,
  },
  cancel = {
    doc = "cancel the statement at the cursor (or the only running one; else pick)",
    run = function()
      livy().cancel()
    end,
  },
  session = {
    doc = "new [key=value...] | attach [id] | kill [id] | killall | info [id]",
    run = function(args)
      local action = table.remove(args, 1)
      local fn = session_actions[action or ""]
      if not fn then
        return notify(
          ("session: expected one of new, attach, kill, killall, info; got %s"):format(
            action and ("%q"):format(action) or "nothing"
          )
        )
      end
      fn(args)
    end,
    complete = function(arglead, args)
      if #args <= 1 then
        return vim.tbl_filter(function(a)
          return vim.startswith(a, arglead)
        end, { "new", "attach", "kill", "killall", "info" })
      end
      if #args == 2 and vim.list_contains({ "attach", "kill", "info" }, args[1]) then
        return vim.tbl_filter(function(a)
          return vim.startswith(a, arglead)
        end, session_ids())
      end
      if args[1] == "new" then
        return vim.tbl_filter(function(a)
          return vim.startswith(a, arglead)
        end, { "kind=", "name=", "driverMemory=", "executorMemory=", "numExecutors=", "queue=", "conf." })
      end
      return {}
    end,
  },
  history = {
    doc = "the session's statements: open code and output, or run again",
    run = function()
      livy().history()
    end,
  },
  logs = {
    doc = "the session's log; 'follow' streams new lines",
    run = function(args)
      if args[1] and args[1] ~= "follow" then
        return notify(("logs: expected nothing or 'follow', got %q"):format(args[1]))
      end
      livy().logs(args[1] == "follow")
    end,
    complete = function(arglead, args)
      return #args <= 1 and vim.startswith("follow", arglead) and { "follow" } or {}
    end,
  },
  batch = {
    doc = "submit [file] [args...] | list | log {id} | kill {id}",
    run = function(args)
      local action = table.remove(args, 1)
      if action == "submit" then
        local file = table.remove(args, 1)
        return livy().batch_submit(file and vim.fn.expand(file) or nil, args)
      elseif action == "list" then
        return livy().batch_list()
      elseif action == "log" or action == "kill" then
        local id, ok = int_arg(args[1], "batch " .. action)
        if ok and not id then
          return notify(("batch %s: give the batch id (:Livy batch list shows them)"):format(action))
        end
        if ok then
          return action == "log" and livy().batch_log(id) or livy().batch_kill(id)
        end
        return
      end
      notify(
        ("batch: expected one of submit, list, log, kill; got %s"):format(action and ("%q"):format(action) or "nothing")
      )
    end,
    complete = function(arglead, args)
      if #args <= 1 then
        return vim.tbl_filter(function(a)
          return vim.startswith(a, arglead)
        end, { "submit", "list", "log", "kill" })
      end
      if #args == 2 and args[1] == "submit" then
        return vim.fn.getcompletion(arglead, "file")
      end
      return {}
    end,
  },
  profile = {
    doc = "[name]: make a profile active (without a name: pick one)",
    run = function(args)
      livy().profile(args[1])
    end,
    complete = function(arglead, args)
      if #args > 1 then
        return {}
      end
      local names = {}
      for _, p in ipairs(require("livy.state").data.profiles or {}) do
        if vim.startswith(p.name, arglead) then
          table.insert(names, p.name)
        end
      end
      return names
    end,
  },
  login = {
    doc = "[profile]: give the daemon a password or token for a profile's Livy",
    run = function(args)
      livy().login(args[1])
    end,
    complete = function(arglead, args)
      return M.subcommands.profile.complete(arglead, args)
    end,
  },
  deploy = {
    doc = "[dry-run]: deploy the project's scripts and packages (and add them to the attached session)",
    run = function(args)
      if args[1] and args[1] ~= "dry-run" then
        return notify(("deploy: expected nothing or 'dry-run', got %q"):format(args[1]))
      end
      livy().deploy(args[1] == "dry-run")
    end,
    complete = function(arglead, args)
      return #args <= 1 and vim.startswith("dry-run", arglead) and { "dry-run" } or {}
    end,
  },
  reload = {
    doc = "[module]: hot-reload a module or package into the attached session (default: the buffer's)",
    run = function(args)
      if #args > 1 then
        return notify(("reload: expected one module or package name, got %d words"):format(#args))
      end
      livy().reload(args[1])
    end,
    complete = function(arglead, args)
      return #args <= 1 and require("livy.devloop").modules(arglead) or {}
    end,
  },
  hdfs = {
    doc = "ls [path]: an HDFS directory (default: the remote base dir) in a float",
    run = function(args)
      local action = table.remove(args, 1)
      if action ~= "ls" then
        return notify(("hdfs: expected 'ls [path]', got %s"):format(action and ("%q"):format(action) or "nothing"))
      end
      if #args > 1 then
        return notify(("hdfs ls: expected one path, got %d words"):format(#args))
      end
      livy().hdfs_ls(args[1])
    end,
    complete = function(arglead, args)
      return #args <= 1 and vim.startswith("ls", arglead) and { "ls" } or {}
    end,
  },
  restart = {
    doc = "kill the attached session and start one with the same configuration",
    run = function()
      livy().restart()
    end,
  },
  status = {
    doc = "the daemon's state in a float: versions, profiles, sessions, unfinished tasks",
    run = function()
      livy().daemon_status()
    end,
  },
  output = {
    doc = "open the attached session's output buffer",
    run = function()
      livy().open_output()
    end,
  },
  float = {
    doc = "show the output of the statement at the cursor in a float",
    run = function()
      livy().float()
    end,
  },
}

--- The :Livy command.
---@param cmd table the nvim_create_user_command callback argument
function M.run(cmd)
  require("livy").ensure_setup()
  local args = vim.deepcopy(cmd.fargs)
  local name = table.remove(args, 1)
  if not name then
    return notify("expected a subcommand: " .. table.concat(M.names(), ", ") .. " (:help :Livy)")
  end
  local sub = M.subcommands[name]
  if not sub then
    return notify(("unknown subcommand %q; expected one of %s"):format(name, table.concat(M.names(), ", ")))
  end
  sub.run(args, cmd)
end

---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

--- Completion for :Livy.
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete(arglead, cmdline)
  local words = vim.split(cmdline:gsub("^%s*%S*Livy!?%s*", ""), "%s+", { trimempty = true })
  if arglead == "" and cmdline:match("%s$") then
    table.insert(words, "") -- a new word is being started
  end
  if #words == 0 then
    words = { "" }
  end
  if #words == 1 then
    return vim.tbl_filter(function(n)
      return vim.startswith(n, arglead)
    end, M.names())
  end
  local sub = M.subcommands[words[1]]
  if not sub or not sub.complete then
    return {}
  end
  return sub.complete(arglead, vim.list_slice(words, 2))
end

return M
