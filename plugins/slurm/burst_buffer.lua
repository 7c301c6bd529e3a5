-- netplace: data staging through Slurm's burst_buffer/lua (BurstBufferType=burst_buffer/lua).
--
-- Install as burst_buffer.lua next to slurm.conf on the controller. Every function is a thin call
-- into `netplace stage` (docs/staging.md): the catalog, the transfers, the checksums, the ledger
-- and the replicas are netplace's; this file only passes Slurm's arguments on and hands the
-- answer back. netplace reads /etc/netplace/{datasets,federation,policy}.yaml unless slurmctld's
-- environment sets NETPLACE_CATALOG, NETPLACE_FEDERATION, NETPLACE_POLICY_FILE.
--
-- A job asks for staging with a directive among its leading comment lines (netplace's cli_filter
-- adds it when the chosen site lacks a dataset; users may write it themselves):
--   #BB_LUA pool=netplace capacity=1 netplace_in=imagenet,refs netplace_home=alpha
--   #BB_LUA netplace_out=/home/me/results.tar     (absolute paths, sent home after the job)
-- A failed stage-in holds the job with netplace's one-line reason ("netplace: source down: ...",
-- "checksum mismatch", "quota", "residency"); with Flags=TeardownFailure in burst_buffer.conf,
-- `scontrol release JOBID` runs the stage-in again, which resumes from the partial file.

local NETPLACE = "@NETPLACE_BIN@"

local function quote(s)
  return "'" .. string.gsub(tostring(s), "'", "'\\''") .. "'"
end

-- Runs `netplace stage ...`; returns slurm.SUCCESS or slurm.ERROR with netplace's message.
local function stage(args)
  local p = io.popen(NETPLACE .. " stage " .. args .. " 2>&1 </dev/null; echo \"netplace-rc=$?\"")
  if p == nil then return slurm.ERROR, "netplace: cannot run " .. NETPLACE end
  local out = p:read("*a")
  p:close()
  local rc = string.match(out, "netplace%-rc=(%d+)%s*$")
  local msg = string.gsub(string.gsub(out, "netplace%-rc=%d+%s*$", ""), "%s+$", "")
  if rc == "0" then return slurm.SUCCESS, msg end
  if msg == "" then msg = "netplace stage failed (exit " .. tostring(rc) .. ")" end
  return slurm.ERROR, msg
end

-- Runs inside slurmctld on submission: must be instant. The directive was checked by the door.
function slurm_bb_job_process(job_script)
  return slurm.SUCCESS
end

-- One pool, so Slurm schedules a staged job as soon as its data is in (not at the next backfill
-- pass): capacity counts jobs staging, not bytes (netplace enforces the byte quota itself).
function slurm_bb_pools()
  return slurm.SUCCESS, '{"pools":[{"id":"netplace","quantity":1000000,"granularity":1}]}'
end

function slurm_bb_setup(job_id, uid, gid, pool, bb_size, job_script)
  return stage("setup --job " .. quote(job_id) .. " --uid " .. quote(uid) ..
               " --job-script " .. quote(job_script))
end

function slurm_bb_data_in(job_id, job_script)
  return stage("in --job " .. quote(job_id) .. " --job-script " .. quote(job_script))
end

function slurm_bb_real_size(job_id)
  return slurm.SUCCESS
end

-- Runs inside slurmctld before the job starts: must be instant. Copies the lines `stage in` wrote
-- beside the job script (NETPLACE_DATA_DIR=..., NETPLACE_DATA_<NAME>=...) into the job's
-- environment.
function slurm_bb_paths(job_id, job_script, path_file)
  local f = io.open(string.gsub(job_script, "[^/]*$", "") .. "netplace.env", "r")
  if f == nil then return slurm.SUCCESS end
  local env = f:read("*a")
  f:close()
  local out = io.open(path_file, "w")
  if out == nil then return slurm.ERROR, "netplace: cannot write " .. path_file end
  out:write(env)
  out:close()
  return slurm.SUCCESS
end

function slurm_bb_pre_run(job_id, job_script)
  return slurm.SUCCESS
end

function slurm_bb_post_run(job_id, job_script)
  return slurm.SUCCESS
end

function slurm_bb_data_out(job_id, job_script)
  return stage("out --job " .. quote(job_id) .. " --job-script " .. quote(job_script))
end

function slurm_bb_job_teardown(job_id, job_script, hurry)
  return stage("teardown --job " .. quote(job_id) .. " --job-script " .. quote(job_script))
end

function slurm_bb_get_status(...)
  return stage("status")
end
