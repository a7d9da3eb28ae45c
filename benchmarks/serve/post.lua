-- POST the JSON body in $BODY to the path wrk was given (/score or /score/batch).
package.path = package.path .. ";" .. os.getenv("LUA_DIR") .. "/?.lua"
require "report"
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests) report(summary, latency) end
