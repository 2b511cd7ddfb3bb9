-- A different bearer token for every request: the lines of env TOKEN_FILE, from line
-- TOKEN_START + 1 on (wrapping at the end). With several threads each starts at its own share.
local tokens = {}
local next_index = 0
local threads = 0

setup = function(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

init = function(args)
  for line in io.lines(os.getenv("TOKEN_FILE")) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  local start = tonumber(os.getenv("TOKEN_START") or "0")
  local share = math.floor(#tokens / tonumber(os.getenv("WRK_THREADS") or "1"))
  next_index = start + (thread_number or 0) * share
end

request = function()
  next_index = next_index + 1
  wrk.headers["Authorization"] = tokens[((next_index - 1) % #tokens) + 1]
  return wrk.format()
end

done = dofile(os.getenv("WRK_REPORT_LUA")) -- report.lua (wrk.ts sets the path)
