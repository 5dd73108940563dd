-- :checkhealth livy twice: with a working livyd (python -m livyd, the sandbox as its URL), then
-- with a livyd that does not exist. Records each health buffer's lines.
-- Then in a folder whose livyd.toml has a Kerberos profile, with no ticket in the cache.
-- args: OUT.json PLUGIN_DIR LIVY_URL PYTHON MISSING_LIVYD KERBEROS_DIR
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local livy_url, python, missing, kerberos_dir = arg[3], arg[4], arg[5], arg[6]
local R = H.results

local function checkhealth()
  vim.cmd("checkhealth livy")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd("bwipeout!")
  return lines
end

H.run(function()
  assert(require("livy").setup({ cmd = { python, "-m", "livyd", "--stdio" }, settings = { url = livy_url } }))
  R.good = checkhealth()
  H.step("good")
  assert(require("livy").setup({ cmd = { missing, "--stdio" } }))
  R.missing = checkhealth()
  H.step("missing")
  vim.cmd("cd " .. kerberos_dir)
  assert(require("livy").setup({ cmd = { python, "-m", "livyd", "--stdio" }, profile = "kerb" }))
  R.kerberos = checkhealth()
  H.step("kerberos")
end)
