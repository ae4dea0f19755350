-- POSTs a login with the credentials in $GH_USER / $GH_PASSWORD.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. os.getenv("GH_USER") .. '","password":"' .. os.getenv("GH_PASSWORD") .. '"}'
