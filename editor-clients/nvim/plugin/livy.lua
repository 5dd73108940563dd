-- livy.nvim: only the :Livy command is defined at startup; everything else loads on first use.
if vim.g.loaded_livy then
  return
end
vim.g.loaded_livy = true

vim.api.nvim_create_user_command("Livy", function(cmd)
  require("livy.commands").run(cmd)
end, {
  nargs = "*",
  range = true,
  desc = "Livy: run code on Apache Livy through livyd (:help :Livy)",
  complete = function(arglead, cmdline)
    return require("livy.commands").complete(arglead, cmdline)
  end,
})
