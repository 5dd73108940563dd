--- Checks messages against livyd's generated protocol: protocol/livyd.schema.json (the JSON
--- Schema of every params, result and notification) and protocol/methods.json (which schema each
--- method uses). Both are generated from the daemon's pydantic models, so this file knows no
--- message shape of its own: it implements the part of JSON Schema those files use.
---
--- Outgoing params are checked before they are sent (a mistake is named with its field path, the
--- way the daemon would); incoming results and notifications before a handler acts on them.
--- Unknown fields are refused only where the schema says so (params): results and notifications
--- may gain fields within a major version.
local M = {}

---@class livy.SchemaFiles
---@field schema string path of livyd.schema.json
---@field methods string path of methods.json

---@type { defs: table<string, table>, methods: table<string, table>, version: string, dir: string }|false|nil
local loaded = nil
---@type string|nil
local load_error = nil

--- Where the generated protocol/ folder is: beside this plugin (a copy) or at the root of the
--- livyd repository the plugin was installed from (editor-clients/nvim/ -> ../../protocol).
---@return string[]
function M.candidates()
  local here = debug.getinfo(1, "S").source:sub(2)
  local root = vim.fn.fnamemodify(here, ":p:h:h:h") -- editor-clients/nvim
  local out = {}
  local configured = require("livy.config").get().protocol_dir
  if configured then
    table.insert(out, vim.fs.normalize(configured))
  end
  table.insert(out, root .. "/protocol")
  table.insert(out, vim.fs.normalize(root .. "/../../protocol"))
  return out
end

local function read_json(path)
  local f = io.open(path, "r")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  local ok, data = pcall(vim.json.decode, text)
  if not ok then
    return nil, ("%s is not valid JSON: %s"):format(path, data)
  end
  return data
end

--- Load the schema once; false (with M.error()) when it cannot be found.
local function load()
  if loaded ~= nil then
    return loaded
  end
  for _, dir in ipairs(M.candidates()) do
    local schema, err = read_json(dir .. "/livyd.schema.json")
    local methods, err2 = read_json(dir .. "/methods.json")
    if err or err2 then
      load_error = err or err2
      loaded = false
      return loaded
    end
    if schema and methods then
      local by_method = {}
      for _, m in ipairs(methods.methods or {}) do
        by_method[m.method] = m
      end
      loaded = { defs = schema["$defs"] or {}, methods = by_method, version = methods.protocolVersion, dir = dir }
      return loaded
    end
  end
  load_error = "protocol/livyd.schema.json not found (looked in "
    .. table.concat(M.candidates(), ", ")
    .. "); set protocol_dir in setup() to the protocol/ folder of your livyd checkout"
  loaded = false
  return loaded
end

--- Forget the loaded schema (tests, or after protocol_dir changed).
function M.reset()
  loaded, load_error = nil, nil
end

---@return { dir: string, version: string }|nil info, string|nil error
function M.info()
  local s = load()
  if not s then
    return nil, load_error
  end
  return { dir = s.dir, version = s.version }, nil
end

local function is_null(v)
  return v == vim.NIL
end

local function type_name(v)
  if v == nil then
    return "nothing"
  elseif is_null(v) then
    return "null"
  elseif type(v) == "table" then
    if next(v) == nil and getmetatable(v) == getmetatable(vim.empty_dict()) then
      return "object"
    end
    return vim.islist(v) and "array" or "object"
  elseif type(v) == "number" then
    return (v == math.floor(v) and v > -math.huge and v < math.huge) and "integer" or "number"
  end
  return type(v)
end

local function matches_type(v, t)
  local actual = type_name(v)
  if t == "number" then
    return actual == "number" or actual == "integer"
  elseif t == "object" then
    -- an empty Lua table is both an empty array and an empty object
    return actual == "object" or (type(v) == "table" and next(v) == nil)
  elseif t == "array" then
    return actual == "array"
  end
  return actual == t
end

local function join(path, key)
  if path == "" then
    return tostring(key)
  end
  if type(key) == "number" then
    return ("%s.%d"):format(path, key - 1) -- zero-based, as the daemon names list items
  end
  return path .. "." .. key
end

--- A short description of what a schema accepts ("a string", "an integer or null").
local function expected(s, defs, depth)
  depth = depth or 0
  if depth > 5 then
    return "a value"
  end
  if s["$ref"] then
    local def = defs[s["$ref"]:match("[^/]+$")] or {}
    if def.enum then
      return "one of " .. table.concat(vim.tbl_map(vim.json.encode, def.enum), ", ")
    end
    return expected(def, defs, depth + 1)
  end
  if s.anyOf then
    return table.concat(
      vim.tbl_map(function(x)
        return expected(x, defs, depth + 1)
      end, s.anyOf),
      " or "
    )
  end
  if s.enum then
    return "one of " .. table.concat(vim.tbl_map(vim.json.encode, s.enum), ", ")
  end
  if s.const ~= nil then
    return vim.json.encode(s.const)
  end
  local names = {
    string = "a string",
    integer = "an integer",
    number = "a number",
    boolean = "a boolean",
    null = "null",
    array = "a list",
    object = "an object",
  }
  return names[s.type] or "a value"
end

---@param v any
---@param s table
---@param defs table
---@param path string
---@param errors string[]
local function check(v, s, defs, path, errors)
  if s["$ref"] then
    local name = s["$ref"]:match("[^/]+$")
    local def = defs[name]
    if not def then
      table.insert(errors, ("%s: the schema has no %s"):format(path ~= "" and path or "(message)", name))
      return
    end
    return check(v, def, defs, path, errors)
  end
  if s.anyOf then
    for _, alt in ipairs(s.anyOf) do
      local errs = {}
      check(v, alt, defs, path, errs)
      if #errs == 0 then
        return
      end
    end
    -- one alternative that is not null: its errors are the helpful ones
    local non_null = vim.tbl_filter(function(x)
      return x.type ~= "null"
    end, s.anyOf)
    if #non_null == 1 and not is_null(v) then
      return check(v, non_null[1], defs, path, errors)
    end
    table.insert(errors, ("%s: expected %s, got %s"):format(path, expected(s, defs), type_name(v)))
    return
  end
  if s.const ~= nil and not vim.deep_equal(v, s.const) then
    table.insert(errors, ("%s: expected %s"):format(path, vim.json.encode(s.const)))
    return
  end
  if s.enum and not vim.list_contains(s.enum, v) then
    table.insert(
      errors,
      ("%s: expected one of %s, got %s"):format(
        path,
        table.concat(vim.tbl_map(vim.json.encode, s.enum), ", "),
        type(v) == "string" and vim.json.encode(v) or type_name(v)
      )
    )
    return
  end
  if s.type and not matches_type(v, s.type) then
    table.insert(errors, ("%s: expected %s, got %s"):format(path, expected(s, defs), type_name(v)))
    return
  end
  if type(v) == "number" then
    if s.minimum and v < s.minimum then
      table.insert(errors, ("%s: must be >= %s"):format(path, s.minimum))
    end
    if s.maximum and v > s.maximum then
      table.insert(errors, ("%s: must be <= %s"):format(path, s.maximum))
    end
    if s.exclusiveMinimum and v <= s.exclusiveMinimum then
      table.insert(errors, ("%s: must be > %s"):format(path, s.exclusiveMinimum))
    end
    if s.exclusiveMaximum and v >= s.exclusiveMaximum then
      table.insert(errors, ("%s: must be < %s"):format(path, s.exclusiveMaximum))
    end
  elseif type(v) == "string" then
    if s.minLength and vim.fn.strchars(v) < s.minLength then
      table.insert(errors, ("%s: must not be empty"):format(path))
    end
    if s.maxLength and vim.fn.strchars(v) > s.maxLength then
      table.insert(errors, ("%s: must be at most %d characters"):format(path, s.maxLength))
    end
  elseif type(v) == "table" then
    if s.type == "array" or (s.items and vim.islist(v)) then
      if s.items then
        for i, item in ipairs(v) do
          check(item, s.items, defs, join(path, i), errors)
        end
      end
      if s.minItems and #v < s.minItems then
        table.insert(errors, ("%s: needs at least %d items"):format(path, s.minItems))
      end
    else
      local props = s.properties or {}
      for _, key in ipairs(s.required or {}) do
        if v[key] == nil then
          -- JSON null arrives as nil (vim.lsp decodes with luanil): accept it when null is allowed
          local ps = props[key] or {}
          local errs = {}
          check(vim.NIL, ps, defs, key, errs)
          if #errs > 0 then
            table.insert(errors, ("%s: required"):format(join(path, key)))
          end
        end
      end
      local keys = vim.tbl_keys(v)
      table.sort(keys, function(a, b)
        return tostring(a) < tostring(b)
      end)
      for _, key in ipairs(keys) do
        local ps = props[key]
        if ps then
          check(v[key], ps, defs, join(path, key), errors)
        elseif s.additionalProperties == false then
          table.insert(errors, ("%s: unknown field"):format(join(path, key)))
        elseif type(s.additionalProperties) == "table" then
          check(v[key], s.additionalProperties, defs, join(path, key), errors)
        end
      end
    end
  end
end

--- Check a value against a schema definition by name ("ExecuteParams").
---@param def string
---@param value any
---@return boolean ok, string[] errors (empty when ok or when no schema is available)
function M.check_def(def, value)
  local s = load()
  if not s then
    return true, {}
  end
  if not s.defs[def] then
    return false, { ("(message): the schema has no %s"):format(def) }
  end
  local errors = {}
  local v = value
  if v == nil then
    v = vim.empty_dict() -- omitted params read like {} (protocol/README.md, Robustness)
  end
  check(v, { ["$ref"] = "#/$defs/" .. def }, s.defs, "", errors)
  for i, e in ipairs(errors) do
    errors[i] = e:gsub("^: ", "(message): ")
  end
  return #errors == 0, errors
end

local function ref_of(method, part)
  local s = load()
  if not s then
    return nil
  end
  local m = s.methods[method]
  if not m then
    return nil
  end
  local ref = m[part]
  return type(ref) == "string" and ref:match("[^/]+$") or nil
end

--- The params of a livy/* method (a request we send, or a notification we receive).
---@param method string
---@param params any
---@return boolean ok, string[] errors
function M.check_params(method, params)
  local s = load()
  if not s then
    return true, {}
  end
  if not s.methods[method] then
    return false, { ("%s is not a method of livyd protocol %s"):format(method, s.version or "?") }
  end
  return M.check_def(assert(ref_of(method, "params")), params)
end

--- The result of a livy/* request.
---@param method string
---@param result any
---@return boolean ok, string[] errors
function M.check_result(method, result)
  local def = ref_of(method, "result")
  if not def then
    return true, {}
  end
  return M.check_def(def, result)
end

--- Whether the schema knows the method (false when there is no schema either).
---@param method string
function M.has_method(method)
  local s = load()
  return s and s.methods[method] ~= nil or false
end

return M
