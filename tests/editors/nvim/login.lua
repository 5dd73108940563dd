-- :Livy login against a sandbox that wants a bearer token: refused first (the error says it is
-- authentication), accepted after the token was given; the token reaches neither :messages nor
-- Neovim's LSP log, even at DEBUG level.
-- args: OUT.json PLUGIN_DIR LIVY_URL PYTHON WORKDIR TOKEN
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local livy_url, python, workdir, token = arg[3], arg[4], arg[5], arg[6]
local R = H.results

H.run(function()
  vim.lsp.log.set_level("debug")
  local livy = require("livy")
  local state = require("livy.state")
  R.notes = {}
  vim.notify = function(msg, level)
    table.insert(R.notes, { msg = msg, level = level })
  end
  assert(livy.setup({
    cmd = { python, "-m", "livyd", "--stdio", "--standalone" },
    settings = { url = livy_url, stateDir = workdir .. "/state", pollInterval = 0.1, deleteSessionsOnExit = true },
    output = { open = false },
  }))
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "print(1 + 1)" })
  vim.cmd("Livy line")
  H.wait("the refusal", function()
    return #R.notes > 0
  end, 30000)
  R.refusal = R.notes[1]

  vim.ui.input = function(_, on_confirm)
    on_confirm("")
  end
  vim.fn.inputsecret = function()
    return token
  end
  vim.cmd("Livy login")
  H.wait("the login", function()
    return #R.notes > 1
  end, 10000)
  R.login = R.notes[2]
  vim.cmd("Livy line")
  local out
  H.wait("the output", function()
    for _, t in pairs(state.data.tasks) do
      out = out or t.output
    end
    return out ~= nil
  end, 60000)
  R.output = out.data["text/plain"]
  R.lsp_log = vim.lsp.log.get_filename()
end)
