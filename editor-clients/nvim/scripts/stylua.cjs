#!/usr/bin/env node
// Format (or with --check, verify) the plugin's Lua with StyLua's WebAssembly build, the npm
// package @johnnymorganz/stylua (the native binary's npm wrapper downloads from GitHub, which a
// build machine here cannot reach). Settings mirror stylua.toml.
//   node scripts/stylua.cjs [--check] FILE_OR_DIR...
"use strict";
const fs = require("fs");
const path = require("path");
const stylua = require("@johnnymorganz/stylua");

const check = process.argv.includes("--check");
const targets = process.argv.slice(2).filter((a) => a !== "--check");

function config() {
  const c = stylua.Config.new();
  c.column_width = 120;
  c.indent_type = stylua.IndentType.Spaces;
  c.indent_width = 2;
  c.quote_style = stylua.QuoteStyle.AutoPreferDouble;
  c.call_parentheses = stylua.CallParenType.Always;
  return c;
}

function luaFiles(p) {
  const st = fs.statSync(p);
  if (st.isFile()) return p.endsWith(".lua") ? [p] : [];
  return fs.readdirSync(p).flatMap((n) => (n === "node_modules" ? [] : luaFiles(path.join(p, n))));
}

let bad = 0;
for (const file of targets.flatMap(luaFiles).sort()) {
  if (file.endsWith(path.join("livy", "protocol.lua"))) continue; // generated: python -m livyd.protocol
  const text = fs.readFileSync(file, "utf8");
  const out = stylua.formatCode(text, config(), undefined, stylua.OutputVerification.None);
  if (out !== text) {
    if (check) {
      console.log(`not formatted: ${file} (run: node scripts/stylua.cjs ${file})`);
      bad += 1;
    } else {
      fs.writeFileSync(file, out);
      console.log(`formatted ${file}`);
    }
  }
}
process.exit(bad ? 1 : 0);
