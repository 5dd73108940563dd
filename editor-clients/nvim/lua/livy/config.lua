--- The plugin's options: defaults, validation (vim.validate) and the current values.
local M = {}

--- The oldest Neovim the plugin runs on (checked by setup() and :checkhealth livy).
M.MIN_NVIM = "0.11.0"

---@class livy.Options
---@field cmd string[] How to start the daemon (it must speak LSP on stdio).
---@field cmd_env table<string, string>|nil Extra environment for the daemon.
---@field filetypes string[] Buffers of these filetypes get the daemon's LSP features.
---@field root_markers string[] Files marking the workspace root (else the current directory).
---@field profile string|nil The livyd profile to use (nil: livyd.toml's default).
---@field settings table livyd's DaemonSettings (url, kind, pollInterval, ...).
---@field codelens boolean Refresh the daemon's "Run cell" lenses in attached buffers.
---@field output livy.OutputOptions
---@field virtual_text livy.VirtualTextOptions
---@field image_dir string|nil Where images are saved (nil: stdpath("cache")/livy/images).
---@field quickfix livy.QuickfixOptions
---@field protocol_dir string|nil The protocol/ folder with livyd.schema.json (nil: found beside the plugin).
---@field statement_kinds table<string, string> Filetype -> Livy statement kind (others: the session's kind).

---@class livy.OutputOptions
---@field open boolean Show a session's output buffer in a split when its first result arrives.
---@field split "below"|"above"|"left"|"right" Where that split opens.
---@field size integer Its height (or width for left/right).

---@class livy.VirtualTextOptions
---@field enabled boolean Show short results (and task states) after the sent range.
---@field max_width integer Results longer than this (or of several lines) say where to read them.

---@class livy.QuickfixOptions
---@field open boolean Open the quickfix window when a statement fails.

---@type livy.Options
M.defaults = {
  cmd = { "livyd", "--stdio" },
  cmd_env = nil,
  filetypes = { "python" },
  root_markers = { "livyd.toml", "pyproject.toml", "setup.py", ".git" },
  profile = nil,
  settings = {},
  codelens = true,
  output = { open = true, split = "below", size = 12 },
  virtual_text = { enabled = true, max_width = 80 },
  image_dir = nil,
  quickfix = { open = false },
  protocol_dir = nil,
  statement_kinds = { sql = "sql", scala = "spark", r = "sparkr" },
}

---@type livy.Options
local current = vim.deepcopy(M.defaults)

local function list_of(kind)
  return function(v)
    if type(v) ~= "table" or not vim.islist(v) then
      return false
    end
    for _, x in ipairs(v) do
      if type(x) ~= kind then
        return false
      end
    end
    return true
  end
end

--- Every option name, including those whose default is nil.
local KNOWN = {
  [""] = {
    "cmd",
    "cmd_env",
    "filetypes",
    "root_markers",
    "profile",
    "settings",
    "codelens",
    "output",
    "virtual_text",
    "image_dir",
    "quickfix",
    "protocol_dir",
    "statement_kinds",
  },
  output = { "open", "split", "size" },
  virtual_text = { "enabled", "max_width" },
  quickfix = { "open" },
}

local function check_keys(section, given)
  local known = KNOWN[section]
  for key in pairs(given) do
    if not vim.list_contains(known, key) then
      local name = section == "" and key or (section .. "." .. key)
      local sorted = vim.deepcopy(known)
      table.sort(sorted)
      error(
        ("livy.setup: unknown option %s (known%s: %s)"):format(
          name,
          section == "" and "" or (" in " .. section),
          table.concat(sorted, ", ")
        ),
        0
      )
    end
  end
end

--- Validate *opts* (merged over the defaults) and return the result; errors name the option.
---@param opts table|nil
---@return livy.Options
function M.resolve(opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error(("livy.setup: expected a table of options, got %s"):format(type(opts)), 0)
  end
  check_keys("", opts)
  for _, sub in ipairs({ "output", "virtual_text", "quickfix" }) do
    if type(opts[sub]) == "table" then
      check_keys(sub, opts[sub])
    end
  end
  local o = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- lists replace, they do not merge
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      o[key] = opts[key]
    end
  end
  -- vim.validate, with the value shown as Lua ("got {}") instead of "got table: 0x55d0..."
  local function validate(name, value, ...)
    local good, msg = pcall(vim.validate, name, value, ...)
    if not good then
      local shown = vim.inspect(value, { newline = " ", indent = "" })
      if #shown > 60 then
        shown = shown:sub(1, 57) .. "..."
      end
      error((tostring(msg):gsub("got table: 0x%x+", function()
        return "got " .. shown
      end)), 0)
    end
  end
  local ok, err = pcall(function()
    validate("cmd", o.cmd, function(v)
      return list_of("string")(v) and #v > 0
    end, "a non-empty list of strings, e.g. { 'livyd', '--stdio' }")
    validate("cmd_env", o.cmd_env, "table", true)
    validate("filetypes", o.filetypes, list_of("string"), "a list of filetypes")
    validate("root_markers", o.root_markers, list_of("string"), "a list of file names")
    validate("profile", o.profile, "string", true)
    validate("settings", o.settings, "table")
    validate("codelens", o.codelens, "boolean")
    validate("output", o.output, "table")
    validate("output.open", o.output.open, "boolean")
    validate("output.split", o.output.split, function(v)
      return vim.list_contains({ "below", "above", "left", "right" }, v)
    end, "one of below, above, left, right")
    validate("output.size", o.output.size, function(v)
      return type(v) == "number" and v >= 1 and v == math.floor(v)
    end, "a whole number >= 1")
    validate("virtual_text", o.virtual_text, "table")
    validate("virtual_text.enabled", o.virtual_text.enabled, "boolean")
    validate("virtual_text.max_width", o.virtual_text.max_width, function(v)
      return type(v) == "number" and v >= 1
    end, "a number >= 1")
    validate("image_dir", o.image_dir, "string", true)
    validate("quickfix", o.quickfix, "table")
    validate("quickfix.open", o.quickfix.open, "boolean")
    validate("protocol_dir", o.protocol_dir, "string", true)
    validate("statement_kinds", o.statement_kinds, function(v)
      if type(v) ~= "table" then
        return false
      end
      for ft, kind in pairs(v) do
        local known = kind == false or vim.list_contains({ "pyspark", "spark", "sql", "sparkr" }, kind)
        if type(ft) ~= "string" or not known then
          return false
        end
      end
      return true
    end, "a table of filetype = pyspark|spark|sql|sparkr (or false)")
  end)
  if not ok then
    -- vim.validate's message, without the "file.lua:N: " where it was raised
    error("livy.setup: " .. tostring(err):gsub("^[^\n]-%.lua:%d+: ", ""), 0)
  end
  return o
end

--- Check settings against the protocol's DaemonSettings (the daemon would refuse them later).
---@param o livy.Options
function M.check_settings(o)
  local schema = require("livy.schema")
  local good, errors = schema.check_def("DaemonSettings", next(o.settings) and o.settings or vim.empty_dict())
  if not good then
    error("livy.setup: settings." .. table.concat(errors, "; settings."), 0)
  end
end

---@param o livy.Options
function M.set(o)
  current = o
end

---@return livy.Options
function M.get()
  return current
end

return M
