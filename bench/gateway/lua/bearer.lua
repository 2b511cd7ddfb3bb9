-- One bearer token (env BEARER_TOKEN) for every request. request() is not defined, so wrk keeps
-- its pre-built request (the fast path). done() (report.lua) prints one machine-readable line.
local token = os.getenv("BEARER_TOKEN")
if token ~= nil and #token > 0 then
  wrk.headers["Authorization"] = "Bearer " .. token
end

done = dofile(os.getenv("WRK_REPORT_LUA")) -- report.lua (wrk.ts sets the path)
