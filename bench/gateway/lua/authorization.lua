-- One Authorization header value (env AUTHORIZATION, e.g. "Basic …") for every request, on wrk's
-- pre-built request (the fast path). done() (report.lua) prints one machine-readable line.
local value = os.getenv("AUTHORIZATION")
if value ~= nil and #value > 0 then
  wrk.headers["Authorization"] = value
end

done = dofile(os.getenv("WRK_REPORT_LUA")) -- report.lua (wrk.ts sets the path)
