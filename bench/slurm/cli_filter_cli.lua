-- Benchmark variant of netplace's cli_filter.lua: the same decision through the CLI
-- (`netplace slurm decide`, options JSON on stdin) instead of the native module. Used only by
-- bench/slurm/overhead.sh to compare the two doors; @NETPLACE_CLI@ is replaced by the script.
local NETPLACE_CLI = "@NETPLACE_CLI@"

function slurm_cli_setup_defaults(options, early_pass) return slurm.SUCCESS end

function slurm_cli_pre_submit(options, offset)
  local json = slurm.json_cli_options(options)
  if not string.find(json, '"spank:place%-[sdpe]') and not string.find(json, '"clusters":') then
    return slurm.SUCCESS
  end
  local tmp = os.tmpname()
  local p = io.popen(NETPLACE_CLI .. " slurm decide > " .. tmp, "w")
  p:write(json)
  p:close()
  local f = io.open(tmp, "r")
  local out = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(tmp)
  local action = string.match(out, '"action":"(%a+)"')
  if action == "refuse" then return slurm.ERROR end
  local clusters = string.match(out, '"clusters":"([^"]+)"')
  if action == "steer" and clusters then options["clusters"] = clusters end
  return slurm.SUCCESS
end

function slurm_cli_post_submit(offset, job_id, step_id) return slurm.SUCCESS end
