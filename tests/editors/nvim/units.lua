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
