-- End to end in a real headless Neovim: the plugin starts the real daemon (python -m livyd
-- --stdio --standalone) against the sandbox, runs a selection, a cell, a failing file, a table and
-- an image, cancels a running statement, and reads what the user would see.
-- args: OUT.json PLUGIN_DIR LIVY_URL PYTHON WORKDIR
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local livy_url, python, workdir = arg[3], arg[4], arg[5]
local R = H.results

H.run(function()
  local livy = require("livy")
  local state = require("livy.state")
  assert(
    livy.setup({
      cmd = { python, "-m", "livyd", "--stdio", "--standalone" },
      settings = {
        url = livy_url,
        stateDir = workdir .. "/state",
        pollInterval = 0.1,
        idlePollInterval = 1,
        deleteSessionsOnExit = true,
      },
      image_dir = workdir .. "/images",
    }),
    "setup refused the options"
  )
  R.status_before = livy.status()
  -- livy/progress from the real daemon (1.3): which kinds arrived (each passed the schema check)
  R.progress_kinds = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = "LivyProgress",
    callback = function(ev)
      R.progress_kinds[ev.data.kind] = (R.progress_kinds[ev.data.kind] or 0) + 1
    end,
  })

  local function task_where(pred)
    for _, id in ipairs(state.data.order) do
      local t = state.data.tasks[id]
      if pred(t) then
        return t
      end
    end
  end
  local function output_of(code_part, match)
    local t
    H.wait("the output of " .. code_part, function()
      t = task_where(function(x)
        return x.code and x.code:find(code_part, 1, true) and x.output ~= nil and (not match or match(x))
      end)
      return t ~= nil
    end, 90000)
    return t
  end

  -- 1. a visual selection (linewise) of a Python file: the daemon attaches to the buffer
  vim.cmd("edit " .. workdir .. "/job.py")
  R.filetype = vim.bo.filetype
  local job = vim.api.nvim_get_current_buf()
  vim.cmd("normal! ggVj")
  vim.cmd("normal! \27")
  vim.cmd("'<,'>Livy run")
  local t1 = output_of("getpid")
  R.session_id = t1.sessionId
  R.selection_status = t1.output.status
  R.attached_to_daemon = vim.lsp.get_clients({ bufnr = job, name = "livyd" })[1] ~= nil
  R.output_buffer_name = require("livy.output").buffer_name(t1.sessionId, t1.profile)
  R.output_after_selection = H.buffer_lines(R.output_buffer_name)
  R.output_window_open = vim.fn.bufwinnr(R.output_buffer_name) ~= -1
  -- while the session lives: the process chain of the pid it printed (pytest checks whose it is)
  local pid = tonumber(table.concat(R.output_after_selection, "\n"):match("\npid (%d+)\n"))
  R.pid_ancestry = {}
  while pid and pid > 1 do
    table.insert(R.pid_ancestry, pid)
    local f = io.open("/proc/" .. pid .. "/stat")
    if not f then
      break
    end
    pid = tonumber(f:read("*a"):match("%)%s+%S+%s+(%d+)"))
    f:close()
  end
  -- the result at the cursor in a float (the cursor is on line 2, inside the selection)
  vim.cmd("Livy float")
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      R.float = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false)
      vim.api.nvim_win_close(w, true)
    end
  end
  H.wait("the daemon's code lenses", function()
    return #vim.lsp.codelens.get(job) > 0
  end, 10000)
  R.lenses = vim.tbl_map(function(l)
    return { line = l.range.start.line, title = l.command and l.command.title }
  end, vim.lsp.codelens.get(job))
  H.step("selection")

  -- 2. no range: the cell at the cursor (cells come from the daemon's code lenses)
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd("Livy run")
  local t2 = output_of("6 * 7")
  R.cell_code = t2.code
  R.cell_range = t2.range
  H.wait("the cell's virtual text", function()
    for _, v in ipairs(H.virtual_texts(job)) do
      if v.text:find("42", 1, true) then
        return true
      end
    end
    return false
  end, 5000)
  R.virtual_texts = H.virtual_texts(job)
  H.step("cell")

  -- 2c. the daemon's "Run cell" code lens runs through the plugin too (line 3: "# %%")
  local before = #state.data.order
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.lsp.codelens.run()
  H.wait("the code lens's statement", function()
    local id = state.data.order[before + 1]
    return id ~= nil and state.data.tasks[id].output ~= nil
  end, 30000)
  local t_lens = state.data.tasks[state.data.order[before + 1]]
  R.lens_run = { code = t_lens.code, range = t_lens.range, result = t_lens.output.data["text/plain"] }
  H.step("code lens")

  -- 2a. a characterwise selection sends exactly the selected text
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  vim.cmd("normal! 0f6v4l")
  vim.cmd("normal! \27")
  vim.cmd("'<,'>Livy run")
  local t_char = output_of("6 * 7", function(x)
    return x.code == "6 * 7"
  end)
  R.charwise = { code = t_char.code, range = t_char.range, result = t_char.output.data["text/plain"] }
  H.step("charwise")

  -- 2b. completion from the live session, through Neovim's LSP client (unsaved buffer text)
  vim.cmd("edit " .. workdir .. "/complete.py")
  local comp = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(comp, 0, -1, false, { "nvim_livy_variable = 7", "nvim_livy_vari" })
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd("Livy line")
  output_of("nvim_livy_variable = 7")
  H.wait("the session idle again", function()
    local s = state.attached_session()
    return s ~= nil and s.state == "idle" and #state.unfinished() == 0
  end, 30000)
  -- the daemon gives up on a completion statement after 2 s (an empty list): on a loaded machine
  -- ask again, a few times (completion is read-only)
  R.completion = {}
  for _ = 1, 5 do
    local res = vim.lsp.buf_request_sync(comp, "textDocument/completion", {
      textDocument = { uri = vim.uri_from_bufnr(comp) },
      position = { line = 1, character = 14 },
    }, 20000)
    for _, r in pairs(res or {}) do
      for _, item in ipairs((r.result or {}).items or {}) do
        table.insert(R.completion, item.label)
      end
    end
    if #R.completion > 0 then
      break
    end
  end
  vim.cmd("buffer " .. job)
  H.step("completion")

  -- 3. a table and an image
  vim.api.nvim_win_set_cursor(0, { 9, 0 })
  vim.cmd("Livy cell")
  output_of("%table")
  vim.api.nvim_win_set_cursor(0, { 13, 0 })
  vim.cmd("Livy cell")
  local t_img = output_of("%matplot")
  R.image_status = t_img.output.status
  H.step("table and image")

  -- 4. cancel a running statement (the last cell sleeps)
  vim.api.nvim_win_set_cursor(0, { 19, 0 })
  vim.cmd("Livy run")
  local sleeper
  H.wait("the sleeping statement to run", function()
    sleeper = task_where(function(x)
      return x.code and x.code:find("time.sleep", 1, true) ~= nil and x.state == "running"
    end)
    return sleeper ~= nil
  end, 60000)
  R.status_while_running = livy.status()
  R.virtual_texts_while_running = H.virtual_texts(job)
  vim.cmd("Livy cancel")
  output_of("time.sleep")
  R.cancel_status = sleeper.output.status
  R.cancel_state = sleeper.state
  R.cancel_may_still_run = sleeper.mayStillRun
  R.virtual_texts_after_cancel = H.virtual_texts(job)
  H.step("cancel")

  -- 4a. history through vim.ui.select (what Telescope / fzf-lua pickers replace)
  local picked = {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, it in ipairs(items) do
      table.insert(shown, opts.format_item and opts.format_item(it) or tostring(it))
    end
    table.insert(picked, { prompt = opts.prompt, items = shown })
    if #picked == 1 then
      -- the oldest statement: the selection of step 1
      on_choice(items[#items])
    else
      on_choice("Open code and output")
    end
  end
  vim.cmd("Livy history")
  H.wait("the chosen statement opened", function()
    return #picked >= 2 and vim.api.nvim_buf_get_name(0):match("^livy://statement/") ~= nil
  end, 10000)
  R.history = picked
  R.history_opened_name = vim.api.nvim_buf_get_name(0)
  R.history_opened = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.step("history")

  -- 4b. Livy only marks a sleeping statement cancelled (its code goes on): the remedy is a restart
  vim.cmd("Livy restart")
  H.wait("the restarted session", function()
    local s = state.attached_session()
    return s ~= nil and s.id ~= R.session_id
  end, 60000)
  R.restarted_id = state.attached_session().id
  H.step("restart")

  -- 5. a failing file: the traceback's line reaches the quickfix list (mapped by the daemon)
  vim.cmd("edit " .. workdir .. "/fail.py")
  local fail = vim.api.nvim_get_current_buf()
  vim.cmd("Livy file")
  local t_fail = output_of("1 / 0")
  R.fail_status = t_fail.output.status
  H.wait("the daemon's diagnostics", function()
    return #vim.diagnostic.get(fail) > 0
  end, 10000)
  R.diagnostics = vim.tbl_map(function(d)
    return { lnum = d.lnum, message = d.message, source = d.source }
  end, vim.diagnostic.get(fail))
  R.quickfix = vim.tbl_map(function(i)
    return {
      lnum = i.lnum,
      text = i.text,
      valid = i.valid,
      bufname = i.bufnr > 0 and vim.api.nvim_buf_get_name(i.bufnr) or "",
    }
  end, vim.fn.getqflist())
  R.quickfix_title = vim.fn.getqflist({ title = 0 }).title
  H.step("error")

  -- 7. the session's log, and the statusline after all that
  vim.cmd("Livy logs")
  H.wait("the log buffer", function()
    return vim.fn.bufnr("livy://log/" .. R.restarted_id) ~= -1
  end, 10000)
  R.log_lines = H.buffer_lines("livy://log/" .. R.restarted_id)
  R.status_after = livy.status()
  R.output_final = H.buffer_lines(R.output_buffer_name)
  R.output_restarted = H.buffer_lines(require("livy.output").buffer_name(R.restarted_id, nil))
  R.refused_messages = state.data.refused_messages
  local images = vim.fn.glob(workdir .. "/images/*", false, true)
  R.images = images
  H.step("logs")
end)
