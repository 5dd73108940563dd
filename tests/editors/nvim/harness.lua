-- A plain harness for scripts run by `nvim --headless --clean -l SCRIPT OUT.json ...`
-- (tests/editors/test_nvim.py): results go to OUT.json, which pytest asserts on; waiting is on
-- predicates (vim.wait), never on sleeps. On an error the traceback lands in OUT.json and nvim
-- exits 1; the daemon is always stopped first (shutdown + exit, else killed), never orphaned.
local H = { results = { steps = {} } }

H.out_path = assert(arg[1], "usage: nvim -l SCRIPT OUT.json PLUGIN_DIR ...")
H.plugin_dir = assert(arg[2])
vim.opt.rtp:prepend(H.plugin_dir)
vim.cmd("runtime plugin/livy.lua")

--- Wait until *pred* holds; fail naming *what* after *ms*.
function H.wait(what, pred, ms)
  local ok = vim.wait(ms or 60000, pred, 20)
  if not ok then
    error("timed out waiting for " .. what, 2)
  end
end

function H.step(name)
  table.insert(H.results.steps, name)
end

function H.buffer_lines(name)
  local b = vim.fn.bufnr(name)
  if b == -1 then
    return nil
  end
  return vim.api.nvim_buf_get_lines(b, 0, -1, false)
end

function H.virtual_texts(bufnr)
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, require("livy.output").ns, 0, -1, { details = true })) do
    if m[4].virt_text then
      table.insert(out, { row = m[2], text = m[4].virt_text[1][1] })
    end
  end
  return out
end

local function stop_daemon()
  local ok, client = pcall(require, "livy.client")
  if not ok then
    return
  end
  local c = client.get()
  if c then
    c:stop()
    if not vim.wait(5000, function()
      return c:is_stopped()
    end, 20) then
      c:stop(true)
    end
  end
end

function H.finish(code, why)
  H.results.exit_code, H.results.reason = code, why
  H.results.messages = vim.api.nvim_exec2("messages", { output = true }).output
  stop_daemon()
  local f = assert(io.open(H.out_path, "w"))
  f:write(vim.json.encode(H.results))
  f:close()
  vim.cmd("cquit " .. code)
end

function H.run(fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    H.finish(0, "ok")
  else
    H.finish(1, err)
  end
end

return H
