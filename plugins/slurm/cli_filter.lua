-- netplace: cross-site placement at submission (Slurm cli_filter/lua).
--
-- Install as cli_filter.lua next to slurm.conf on login/submit hosts, with
-- CliFilterPlugins=cli_filter/lua in slurm.conf. It reads netplace's settings from the
-- spank_netplace.so line of plugstack.conf, so there is one place to configure.
--
-- Hot path: a job without --place-* options (and no NETPLACE_* variable, no -M) costs a few
-- getenv calls here: no JSON, no module; the native module is loaded only when netplace decides. Any failure
-- of netplace falls back to Slurm's own choice with a warning; only a bad --place-* value or a
-- job the admin's policy forbids everywhere fails the submission.

-- Where the native module netplace_slurm.so lives (set at install time).
local NETPLACE_LUA_CPATH = "@NETPLACE_LUA_CPATH@"

local function warn(msg)
  io.stderr:write("netplace: warning: " .. msg .. "\n")
end

local function wants_netplace(options)
  -- srun inside an allocation starts a step of that job: there is nothing to place (the job's
  -- --place-* options reach its steps through the environment).
  if options["type"] == "srun" and os.getenv("SLURM_JOB_ID") ~= nil then return false end
  -- Set by spank_netplace.so's option callback for the options that ask for placement
  -- (OptionSpec::asks_placement: --place-sites/-data/-policy/-explain): reading it costs nothing, unlike
  -- slurm.json_cli_options().
  if os.getenv("NETPLACE_PLACEMENT_ASKED") == "1" then return true end
  -- A user's -M is checked against the policy.
  local m = options["clusters"]
  if m ~= nil and m ~= "" then return true end
  -- The NETPLACE_* mirrors of those options (a unit test keeps this list equal to kOptions').
  for _, v in ipairs({"NETPLACE_SITES", "NETPLACE_DATA", "NETPLACE_POLICY", "NETPLACE_EXPLAIN"}) do
    local e = os.getenv(v)
    if e ~= nil and e ~= "" then return true end
  end
  return false
end

-- Independent centres (access: rest): sbatch hands the job to their slurmrestd and stops.
-- The module is loaded only then (it brings libcurl).
local function forward(options, json, r)
  if options["type"] ~= "sbatch" then
    io.stderr:write("netplace: the job was placed at site " .. r.site .. ", an independent " ..
      "centre that takes batch jobs only (sbatch); use --place-sites='!" .. r.site .. "'\n")
    return slurm.ERROR
  end
  local ok, rest = pcall(require, "netplace_rest")
  local f
  if ok then
    local ok2, res = pcall(rest.forward, json, r.site, r.home_allowed)
    if ok2 then f = res else f = {status = "home", message = tostring(res)} end
  else
    f = {status = "home", message = "cannot load the netplace_rest module (" .. tostring(rest) .. ")"}
  end
  if f.status == "submitted" then
    -- What sbatch itself prints for a job on another cluster, so scripts that parse it work.
    -- Slurm hands flags to Lua as "set"/"unset" strings.
    if options["parsable"] == "set" then
      io.stdout:write(string.format("%d;%s\n", f.job_id, f.cluster))
    else
      io.stdout:write(string.format("Submitted batch job %d on cluster %s\n", f.job_id, f.cluster))
    end
    io.stdout:flush()
    io.stderr:flush()
    -- The job is at the centre: end sbatch here, before it submits anything locally.
    os.exit(0)
  end
  if f.status == "home" and r.home_allowed then
    warn(f.message)
    -- The user's -M named the centre: put home back, Slurm cannot reach the centre.
    if options["clusters"] ~= nil and options["clusters"] ~= "" and r.home_cluster then
      options["clusters"] = r.home_cluster
    end
    return slurm.SUCCESS
  end
  io.stderr:write((f.message or "netplace: forwarding failed") .. "\n")
  return slurm.ERROR
end

local netplace = nil
local function load_module()
  if netplace ~= nil then return netplace end
  if not string.find(package.cpath, NETPLACE_LUA_CPATH, 1, true) and
     not string.find(NETPLACE_LUA_CPATH, "^@") then
    package.cpath = NETPLACE_LUA_CPATH .. ";" .. package.cpath
  end
  local override = os.getenv("NETPLACE_LUA_CPATH_OVERRIDE")
  if override ~= nil and override ~= "" then package.cpath = override .. ";" .. package.cpath end
  local ok, mod = pcall(require, "netplace_slurm")
  if not ok then
    warn("cannot load the netplace_slurm module (" .. tostring(mod) .. "); Slurm chooses the cluster")
    netplace = false
    return false
  end
  netplace = mod
  return mod
end

function slurm_cli_setup_defaults(options, early_pass)
  return slurm.SUCCESS
end

-- A heterogeneous job's components must share one cluster: decide for the first, reuse it.
local het_clusters = nil
local het_direct = false

function slurm_cli_pre_submit(options, offset)
  if offset ~= nil and offset > 0 then
    -- Steered directly: libslurm's working cluster already carries every component there.
    if het_direct then return slurm.SUCCESS end
    if het_clusters ~= nil then
      options["clusters"] = het_clusters
      return slurm.SUCCESS
    end
  end
  if not wants_netplace(options) then return slurm.SUCCESS end
  local json = slurm.json_cli_options(options)
  local np = load_module()
  if not np then return slurm.SUCCESS end
  local ok, r = pcall(np.decide, json)
  if not ok then
    warn("placement failed (" .. tostring(r) .. "); Slurm chooses the cluster")
    return slurm.SUCCESS
  end
  for _, w in ipairs(r.warnings or {}) do warn(w) end
  if r.explain then io.stderr:write(r.explain) end
  if r.action == "refuse" then
    io.stderr:write((r.message or "netplace: the job was refused") .. "\n")
    return slurm.ERROR
  end
  if r.action == "forward" then
    if offset ~= nil and offset > 0 then
      io.stderr:write("netplace: a heterogeneous job cannot be forwarded to an independent centre\n")
      return slurm.ERROR
    end
    return forward(options, json, r)
  end
  -- The chosen site lacks a catalog dataset: its burst_buffer.lua stages it in before the job
  -- starts. A user's own --bb stays, netplace's directive joins it on its own line.
  if r.action == "steer" and r.bb and r.bb ~= "" then
    local mine = options["bb"]
    if mine ~= nil and mine ~= "" then
      options["bb"] = mine .. "\n" .. r.bb
    else
      options["bb"] = r.bb
    end
  end
  -- No clusters with "steer": the local cluster was chosen; no -M needed. "direct": the module
  -- pointed sbatch at the chosen cluster's controller itself (no slurmdbd lookup); -M would undo it.
  if r.action == "steer" and r.clusters and r.clusters ~= "" then
    if r.direct then
      het_direct = true
    else
      options["clusters"] = r.clusters
      het_clusters = r.clusters
    end
  end
  return slurm.SUCCESS
end

function slurm_cli_post_submit(offset, job_id, step_id)
  return slurm.SUCCESS
end
