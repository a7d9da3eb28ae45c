-- GET /customers/{id} for ids drawn at random from $IDS (one id a line).
package.path = package.path .. ";" .. os.getenv("LUA_DIR") .. "/?.lua"
require "report"
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/customers/" .. ids[math.random(#ids)])
end
done = function(summary, latency, requests) report(summary, latency) end
