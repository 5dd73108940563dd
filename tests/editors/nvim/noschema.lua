-- The plugin copied away from its repository (no protocol/ beside it): messages go unchecked,
-- and :checkhealth livy says so. args: OUT.json PLUGIN_COPY_DIR
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local R = H.results

H.run(function()
  assert(require("livy").setup({ cmd = { "/nonexistent/livyd", "--stdio" } }))
  local schema = require("livy.schema")
  R.info = { schema.info() }
  R.unchecked = { schema.check_params("livy/execute", { sesionId = 3 }) }
  vim.cmd("checkhealth livy")
  R.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end)
