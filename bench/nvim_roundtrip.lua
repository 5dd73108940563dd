-- One block of the Neovim plugin's round trip (bench/nvim_plugin.py): the plugin starts the daemon
-- against LIVY_URL, warms up, then times N `:Livy line` runs from the command to the result
-- rendered in the output buffer. Writes {"load_ms", "first_ms", "runs_ms"} to OUT.json.
-- args: OUT.json PLUGIN_DIR LIVY_URL PYTHON STATE_DIR N
local out_path, plugin_dir, livy_url, python, state_dir, n = arg[1], arg[2], arg[3], arg[4], arg[5], tonumber(arg[6])
local results = {}

local function finish(code, why)
  results.exit_code, results.reason = code, why
  local ok, client = pcall(require, "livy.client")
  local c = ok and client.get() or nil
  if c then
    c:stop()
    if not vim.wait(5000, function()
      return c:is_stopped()
    end, 20) then
      c:stop(true)
    end
  end
  local f = assert(io.open(out_path, "w"))
  f:write(vim.json.encode(results))
  f:close()
  vim.cmd("cquit " .. code)
end

local ok, err = xpcall(function()
  local t0 = vim.uv.hrtime()
  vim.opt.rtp:prepend(plugin_dir)
  vim.cmd("runtime plugin/livy.lua")
  local livy = require("livy")
  assert(livy.setup({
    cmd = { python, "-m", "livyd", "--stdio", "--standalone" },
    settings = { url = livy_url, stateDir = state_dir, deleteSessionsOnExit = true },
    output = { open = false },
  }))
  results.load_ms = (vim.uv.hrtime() - t0) / 1e6
  local state = require("livy.state")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "1 + 1" })
  local function one()
    local before = #state.data.order
    local start = vim.uv.hrtime()
    vim.cmd("Livy line")
    assert(
      vim.wait(120000, function()
        local id = state.data.order[before + 1]
        return id ~= nil and state.data.tasks[id].output ~= nil
      end, 1),
      "no output"
    )
    return (vim.uv.hrtime() - start) / 1e6
  end
  results.first_ms = one() -- daemon start, initialize, session creation, the statement
  one()
  results.runs_ms = {}
  for _ = 1, n do
    table.insert(results.runs_ms, one())
  end
  require("livy").session_killall()
  vim.wait(5000, function()
    return false
  end, 50)
end, debug.traceback)
if ok then
  finish(0, "ok")
else
  finish(1, err)
end
