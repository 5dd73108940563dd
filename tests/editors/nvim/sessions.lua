-- Sessions, logs, profiles and batches from :Livy commands, against the sandbox through two
-- livyd.toml profiles (alpha, beta) in the workspace. vim.ui.select and vim.notify are replaced
-- by recorders (what Telescope / fzf-lua / nvim-notify would get).
-- args: OUT.json PLUGIN_DIR PYTHON WORKDIR
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local python, workdir = arg[3], arg[4]
local R = H.results

H.run(function()
  local livy = require("livy")
  local state = require("livy.state")
  R.notes = {}
  vim.notify = function(msg, level)
    table.insert(R.notes, { msg = msg, level = level })
  end
  local function noted(part)
    for _, n in ipairs(R.notes) do
      if n.msg:find(part, 1, true) then
        return n
      end
    end
  end
  local picks = {}
  local answer = {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, it in ipairs(items) do
      table.insert(shown, opts.format_item and opts.format_item(it) or tostring(it))
    end
    table.insert(picks, { prompt = opts.prompt, items = shown })
    local want = table.remove(answer, 1)
    for i, s in ipairs(shown) do
      if want and s:find(want, 1, true) then
        return on_choice(items[i], i)
      end
    end
    on_choice(nil)
  end

  -- a Python buffer opened before setup() (a plugin manager loading the plugin on FileType)
  vim.cmd("edit " .. workdir .. "/batch.py")
  local early = vim.api.nvim_get_current_buf()
  assert(livy.setup({
    cmd = { python, "-m", "livyd", "--stdio", "--standalone" },
    settings = {
      stateDir = workdir .. "/state",
      pollInterval = 0.1,
      idlePollInterval = 1,
      deleteSessionsOnExit = true,
    },
    output = { open = false },
  }))
  vim.cmd("cd " .. workdir)
  R.completion_top = vim.fn.getcompletion("Livy ", "cmdline")
  R.completion_session = vim.fn.getcompletion("Livy session ", "cmdline")
  R.completion_logs = vim.fn.getcompletion("Livy logs f", "cmdline")

  -- no session yet: the daemon says so, the plugin in its own words
  vim.cmd("Livy reload nvimpkg")
  H.wait("the reload refused", function()
    return noted("reload: no session attached") ~= nil
  end, 20000)

  -- a session from the active (default) profile, attached
  vim.cmd("Livy session new kind=pyspark name=nvim-test-a")
  H.wait("the new session to be idle and attached", function()
    local s = state.attached_session()
    return s ~= nil and s.state == "idle"
  end)
  local first = state.attached_session()
  R.first = { id = first.id, profile = first.profile, name = first.name }
  R.early_buffer_attached = vim.lsp.get_clients({ bufnr = early, name = "livyd" })[1] ~= nil
  H.step("session new")

  -- its info in a float
  vim.cmd("Livy session info")
  local float_lines
  H.wait("the session info float", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        float_lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false)
        return true
      end
    end
    return false
  end, 10000)
  R.info_float = float_lines
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      vim.api.nvim_win_close(w, true)
    end
  end
  H.step("session info")

  -- the daemon's state in a float
  vim.cmd("Livy status")
  H.wait("the status float", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        R.status_float = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false)
        vim.api.nvim_win_close(w, true)
        return true
      end
    end
    return false
  end, 10000)
  H.step("status")

  -- its log, followed: a line the REPL writes to its own stderr arrives while a statement runs
  vim.cmd("Livy logs follow")
  local log_name = ("livy://log/%s%d"):format(first.profile and (first.profile .. "/") or "", first.id)
  H.wait("the log buffer", function()
    return vim.fn.bufnr(log_name) ~= -1
  end, 10000)
  vim.cmd("enew")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'import os; os.write(2, b"nvim-log-marker\\n")' })
  vim.cmd("Livy line")
  H.wait("the marker in the log buffer", function()
    for _, l in ipairs(H.buffer_lines(log_name) or {}) do
      if l:find("nvim-log-marker", 1, true) then
        return true
      end
    end
    return false
  end, 30000)
  R.log_name = log_name
  H.step("logs follow")

  -- profiles: by name, then through the picker
  vim.cmd("Livy profile beta")
  H.wait("profile beta active", function()
    return state.data.active_profile == "beta"
  end, 10000)
  R.detached_after_switch = state.attached_session() == nil
  answer = { "alpha" }
  vim.cmd("Livy profile")
  H.wait("profile alpha active again", function()
    return state.data.active_profile == "alpha"
  end, 10000)
  R.profile_picker = picks[#picks]
  R.completion_profile = vim.fn.getcompletion("Livy profile ", "cmdline")
  H.step("profile")

  -- attach the first session again by id
  vim.cmd("Livy session attach " .. first.id)
  H.wait("the first session attached again", function()
    local s = state.attached_session()
    return s ~= nil and s.id == first.id
  end, 10000)
  H.step("session attach")

  -- the development loop: deploy (the files reach the attached session's pyFiles), import the
  -- package, change a function in its buffer, reload the buffer's module, see the new behaviour
  R.completion_deploy = vim.fn.getcompletion("Livy deploy ", "cmdline")
  local function note_after(count, part)
    H.wait("a note with " .. part, function()
      for i = count + 1, #R.notes do
        if R.notes[i].msg:find(part, 1, true) then
          return true
        end
      end
      return false
    end, 60000)
    for i = #R.notes, count + 1, -1 do
      if R.notes[i].msg:find(part, 1, true) then
        return R.notes[i].msg
      end
    end
  end
  local seen = #R.notes
  vim.cmd("Livy deploy")
  R.deploy_note = note_after(seen, "deployed ")
  seen = #R.notes
  vim.cmd("Livy deploy")
  R.deploy_again_note = note_after(seen, "deployed ")
  seen = #R.notes
  vim.cmd("Livy deploy dry-run")
  R.deploy_dry_note = note_after(seen, "would deploy ")
  local out_name = require("livy.output").buffer_name(first.id, first.profile)
  local function output_has(part)
    H.wait("the output buffer to show " .. part, function()
      for _, l in ipairs(H.buffer_lines(out_name) or {}) do
        if l:find(part, 1, true) then
          return true
        end
      end
      return false
    end, 60000)
  end
  vim.cmd("enew")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "import nvimpkg.core; print(nvimpkg.core.greet())" })
  vim.cmd("Livy line")
  output_has("hello from version 1")
  vim.cmd("edit " .. workdir .. "/modules/nvimpkg/core.py")
  -- completion asks the daemon for the project when it knows none yet (the first <Tab>)
  require("livy.devloop").project = nil
  R.completion_reload = vim.fn.getcompletion("Livy reload ", "cmdline")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "def greet():", '    return "hello from version 2"' })
  seen = #R.notes
  vim.cmd("Livy reload")
  R.reload_note = note_after(seen, "reloaded ")
  R.reload_saved = not vim.bo.modified
  vim.cmd("enew")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "print(nvimpkg.core.greet())" })
  vim.cmd("Livy line")
  output_has("hello from version 2")
  R.output_after_reload = H.buffer_lines(out_name)
  -- outside the project: asked (vim.ui.input); the empty answer reloads every package
  local asked = {}
  vim.ui.input = function(opts, on_confirm)
    table.insert(asked, opts.prompt)
    on_confirm("")
  end
  seen = #R.notes
  vim.cmd("Livy reload")
  R.reload_all_note = note_after(seen, "reloaded ")
  R.reload_asked = asked
  -- the remote dir in a float
  vim.cmd("Livy hdfs ls " .. vim.fs.basename(workdir))
  H.wait("the hdfs float", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        R.hdfs_float = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false)
        vim.api.nvim_win_close(w, true)
        return true
      end
    end
    return false
  end, 20000)
  vim.cmd("Livy reload two words")
  vim.cmd("Livy hdfs rm x")
  H.step("deploy, reload, hdfs ls")

  -- a batch: its states and log stream into livy://batch/...
  vim.cmd("Livy batch submit " .. workdir .. "/batch.py one two")
  local batch_buf
  H.wait("the batch to succeed", function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      local name = vim.api.nvim_buf_get_name(b)
      if name:match("^livy://batch/") then
        batch_buf = b
        for _, l in ipairs(vim.api.nvim_buf_get_lines(b, 0, -1, false)) do
          if l:find("is success", 1, true) and vim.api.nvim_buf_get_lines(b, 0, 1, false)[1] == "stdout: " then
            return true
          end
        end
      end
    end
    return false
  end, 60000)
  R.batch_name = vim.api.nvim_buf_get_name(batch_buf)
  R.batch_lines = vim.api.nvim_buf_get_lines(batch_buf, 0, -1, false)
  local batch_id = tonumber(R.batch_name:match("(%d+)$"))
  H.step("batch")

  -- the server's batches in a picker: show one's log again (from an empty buffer), then kill it
  vim.api.nvim_buf_delete(batch_buf, { force = true })
  answer = { "#" .. batch_id .. " ", "Show log" }
  vim.cmd("Livy batch list")
  H.wait("the batch log shown from the picker", function()
    local name = vim.api.nvim_buf_get_name(0)
    return name == R.batch_name and #vim.api.nvim_buf_get_lines(0, 0, -1, false) > 1
  end, 10000)
  R.batch_picker = picks[#picks - 1]
  R.batch_log_again = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd("Livy batch kill " .. batch_id)
  H.wait("the batch kill reported", function()
    return noted(("batch %d killed"):format(batch_id)) ~= nil
      or noted(("batch %d was already gone"):format(batch_id)) ~= nil
  end, 10000)
  H.step("batch list, log, kill")

  -- kill the attached session; a second one goes with killall
  vim.cmd("Livy session kill")
  H.wait("the kill to be reported", function()
    return noted(("session %d killed"):format(first.id)) ~= nil
  end, 20000)
  vim.cmd("Livy session new name=nvim-test-b")
  H.wait("the second session", function()
    local s = state.attached_session()
    return s ~= nil and s.id ~= first.id
  end)
  R.second = state.attached_session().id
  vim.cmd("Livy session killall")
  H.wait("killall to be reported", function()
    return noted("killed session") ~= nil
  end, 20000)
  R.killall_note = noted("killed session").msg
  H.step("kill")

  -- bad input is named, and nothing is sent
  vim.cmd("Livy session attach x1")
  vim.cmd("Livy frobnicate")
  R.errors = vim.tbl_map(
    function(n)
      return n.msg
    end,
    vim.tbl_filter(function(n)
      return n.level == vim.log.levels.ERROR
    end, R.notes)
  )
  R.bad_setup = livy.setup({ outptu = {} })
  R.bad_setup_type = livy.setup({ virtual_text = { max_width = "wide" } })
  R.bad_settings = livy.setup({ settings = { pollInterval = -1 } })
  R.errors_after_setup = vim.tbl_map(
    function(n)
      return n.msg
    end,
    vim.tbl_filter(function(n)
      return n.level == vim.log.levels.ERROR
    end, R.notes)
  )
  R.mismatch = require("livy.client").protocol_mismatch({
    capabilities = { experimental = { livyd = { version = "9.0", protocolVersion = "2.0" } } },
  })
  R.not_livyd = require("livy.client").protocol_mismatch({ capabilities = {} })
  R.notes_all = vim.tbl_map(function(n)
    return n.msg
  end, R.notes)
end)
