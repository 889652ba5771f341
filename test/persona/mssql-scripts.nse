-- nmap's own ms-sql-info and ms-sql-ntlm-info (loaded from its scripts
-- directory, unchanged), run with mssql.Helper.InitScript replaced: in
-- nmap 7.93 and 7.95 (Debian 12 and 13) its action throws "attempt to
-- index a nil value" on a port (the portrule's GetTargetInstances returns
-- true and no list) and drops its output by host (the hostrule's table is
-- keyed by instance name, and "#output > 0" is false), so neither script
-- prints anything for any SQL Server. test_windows_tds.py runs this file.
local mssql = require "mssql"
local nmap = require "nmap"
local stdnse = require "stdnse"

description = [[ms-sql-info and ms-sql-ntlm-info with a working InitScript]]
categories = {"safe"}

local function instances(host, port)
  mssql.Helper.Discover(host)
  return mssql.Helper.GetDiscoveredInstances(host, port)
end

mssql.Helper.InitScript = function(process_instance)
  local action = function(host, port)
    local out = stdnse.output_table()
    for _, i in ipairs(instances(host, port) or {}) do
      out[i:GetName()] = process_instance(i)
    end
    return out
  end
  return action, function(host, port) return instances(host, port) ~= nil end
end

local names = {"ms-sql-info", "ms-sql-ntlm-info"}
local scripts = {}
for _, name in ipairs(names) do
  local env = setmetatable({SCRIPT_NAME = name}, {__index = _ENV})
  local path = assert(nmap.fetchfile("scripts/" .. name .. ".nse"))
  assert(loadfile(path, "t", env))()
  scripts[name] = env
end

portrule = function(host, port) return instances(host, port) ~= nil end

action = function(host, port)
  local out = stdnse.output_table()
  for _, name in ipairs(names) do
    out[name] = scripts[name].action(host, port)
  end
  return out
end
