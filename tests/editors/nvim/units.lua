-- The plugin's pure parts in a real Neovim, no daemon: rendering (tables, JSON, truncation,
-- errors, virtual text), option checks, :Livy argument parsing. Records values; pytest asserts.
-- args: OUT.json PLUGIN_DIR IMAGE_DIR
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local image_dir = arg[3]
local R = H.results

H.run(function()
  local render = require("livy.render")
  R.table_wide = render.table_lines({
    headers = { { name = "city", type = "STRING_TYPE" }, { name = "n", type = "BIGINT_TYPE" } },
    data = { { "東京", 12 }, { vim.NIL, 3 }, { "Zürich", vim.NIL } },
  })
  R.json_only = render.result_lines(
    { taskId = "t", sessionId = 1, status = "ok", data = { ["application/json"] = { a = 1 } } },
    image_dir
  )
  R.truncated = render.result_lines({
    taskId = "t",
    sessionId = 1,
    status = "ok",
    data = { ["text/plain"] = "x\ny\n" },
    truncated = true,
    fullOutputPath = "/state/out/t.json",
  }, image_dir)
  R.error_lines = render.result_lines({
    taskId = "t",
    sessionId = 1,
    status = "error",
    ename = "ValueError",
    evalue = "bad",
    traceback = { "Traceback (most recent call last):\n", '  File "<stdin>", line 1, in <module>\n' },
  }, image_dir)
  R.bad_image = render.result_lines(
    { taskId = "t", sessionId = 1, status = "ok", data = { ["image/png"] = "!!notbase64" } },
    image_dir
  )
  local long = string.rep("a", 200)
  R.short_long = { render.short({ status = "ok", elapsedMs = 1500 }, { long }, { max_width = 20 }) }
  R.short_lines = {
    render.short(
      { status = "ok", elapsedMs = 61000 },
      { "a", "b", "c" },
      { max_width = 20, where = "livy://output/3" }
    ),
  }
  R.short_failed = { render.short({ status = "failed" }, {}, { max_width = 80, message = "session 3 is dead" }) }
  R.footer_failed = render.footer({ status = "failed", elapsedMs = 5 }, "session 3 is dead")
  R.elapsed = { render.elapsed(5), render.elapsed(1234), render.elapsed(125000) }
  local livy = require("livy")
  R.fields = livy.parse_fields({ "kind=spark", "numExecutors=4", "conf.spark.sql.shuffle.partitions=64", "x=true" })
  R.fields_bad = select(2, livy.parse_fields({ "driverMemory" }))
  -- the development loop's pure parts: naming a buffer's module, what deploy / reload say
  local devloop = require("livy.devloop")
  local proj = image_dir .. "/proj"
  for _, d in ipairs({ "/modules/pkg/sub", "/modules/loose", "/scripts" }) do
    vim.fn.mkdir(proj .. d, "p")
  end
  for _, f in ipairs({ "/modules/pkg/__init__.py", "/modules/pkg/sub/__init__.py" }) do
    vim.fn.writefile({}, proj .. f)
  end
  local project = { root = proj, packages = { "pkg" }, scripts = { "job.py" } }
  R.module_of = {
    module = devloop.module_of(proj .. "/modules/pkg/sub/deep.py", project),
    init = devloop.module_of(proj .. "/modules/pkg/__init__.py", project),
    script = devloop.module_of(proj .. "/scripts/job.py", project),
    not_a_package = devloop.module_of(proj .. "/modules/loose/x.py", project) or vim.NIL,
    outside = devloop.module_of(image_dir .. "/elsewhere/pkg/x.py", project) or vim.NIL,
    not_python = devloop.module_of(proj .. "/modules/pkg/data.csv", project) or vim.NIL,
  }
  R.deploy_empty = devloop.deploy_lines({ root = proj, via = "webhdfs", files = {} })
  R.deploy_upload = devloop.deploy_lines({
    root = proj,
    via = "livy-upload",
    files = { { kind = "script", name = "job.py", uploaded = true } },
    excluded = { { path = "modules/pkg/.env", reason = "secret" } },
  }, 4)
  R.reload_failed = {
    devloop.reload_lines({
      sessionId = 4,
      results = {
        {
          mode = "package",
          target = "pkg",
          via = "webhdfs",
          reloaded = { "pkg.a" },
          failed = { { module = "pkg.b", error = "SyntaxError: invalid syntax (b.py, line 3)" } },
        },
      },
    }),
  }
  -- livy/progress (1.3) through the checked dispatch: phase with elapsed, job/stage, warnings
  -- once, job links in the output block; the sparkLog answer's lines
  do
    local handlers = require("livy.handlers")
    local insight = require("livy.insight")
    local state = require("livy.state")
    local shown = {}
    local notify = vim.notify
    vim.notify = function(msg, level) -- luacheck: ignore 122
      table.insert(shown, { msg, level })
    end
    local base = { taskId = "t-u", sessionId = 5, statementId = 1, elapsed = 0.5 }
    local function send(fields)
      return handlers.dispatch("livy/progress", vim.tbl_extend("force", base, fields))
    end
    R.insight = {}
    assert(send({ kind = "phase", phase = "session_starting", message = "waiting in YARN for resources" }))
    local t = state.task("t-u")
    R.insight.phase = insight.text(t, { now = t.spark.phase.at + 65000 })
    assert(send({ kind = "phase", phase = "waiting", message = "waiting behind other statements of the session" }))
    R.insight.waiting_queued = insight.text(t, { now = t.spark.phase.at })
    t.state = "running"
    R.insight.waiting_running = insight.text(t) or vim.NIL
    assert(send({ kind = "spark_ui", message = "Spark UI", url = "http://ui/", appId = "app_1" }))
    assert(send({
      kind = "job",
      message = "job 2",
      jobId = 2,
      name = "collect at <stdin>:1",
      status = "RUNNING",
      numTasks = 6,
      completedTasks = 3,
      activeTasks = 1,
      failedTasks = 1,
      url = "http://ui/jobs/job/?id=2",
    }))
    R.insight.job = insight.text(t)
    R.insight.job_short = insight.text(t, { short = true })
    assert(send({
      kind = "stage",
      message = "stage",
      stageId = 3,
      attemptId = 1,
      name = "count at <stdin>:1",
      status = "ACTIVE",
      numTasks = 4,
      completedTasks = 0,
      activeTasks = 0,
    }))
    R.insight.stage = insight.text(t)
    assert(send({ kind = "stage", message = "stage", stageId = 3, attemptId = 1, status = "COMPLETE", numTasks = 4 }))
    R.insight.stage_done = insight.text(t)
    for _ = 1, 2 do
      assert(send({ kind = "warning", code = "skew", stageId = 3, message = "stage 3.1: a task took 40 s" }))
    end
    R.insight.bad = send({ kind = "stage", message = "x", numTasks = "many" })
    R.insight.warnings = shown
    vim.notify = notify -- luacheck: ignore 122
    R.insight.links = insight.link_lines(t)
    R.insight.durations = { insight.duration(4.4), insight.duration(65), insight.duration(3725) }
    R.spark_log = require("livy.logs").spark_log_lines({
      logs = { { log = "driver", url = "http://nm/containerlogs/c1", lines = { "a\nb", "c" } } },
    })
    R.spark_log_empty = require("livy.logs").spark_log_lines({ logs = {} })
  end
  local config = require("livy.config")
  local function refused(opts)
    local ok, err = pcall(config.resolve, opts)
    return ok and "accepted" or err
  end
  R.options = {
    cmd_empty = refused({ cmd = {} }),
    filetypes = refused({ filetypes = "python" }),
    split = refused({ output = { split = "top" } }),
    kinds = refused({ statement_kinds = { sql = "hive" } }),
    kinds_off = refused({ statement_kinds = { sql = false } }),
    unknown_nested = refused({ output = { heigth = 3 } }),
    good = refused({
      cmd = { "livyd", "--stdio" },
      filetypes = { "python", "sql" },
      virtual_text = { max_width = 40 },
    }),
  }
end)
