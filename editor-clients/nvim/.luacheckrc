-- luacheck (Debian: lua-check). Run from editor-clients/nvim: luacheck .
std = "luajit"
globals = { "vim" }
max_line_length = 120
-- protocol.lua is generated (python -m livyd.protocol): its doc lines are as long as the models' docs
files["lua/livy/protocol.lua"] = { max_line_length = false }
exclude_files = {}
