-- POSTs $GH_BODY (a JSON file's text) to the path wrk was given, with $GH_TOKEN as bearer.
local f = io.open(os.getenv("GH_BODY"), "r")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_TOKEN")
wrk.body = f:read("*a")
f:close()
