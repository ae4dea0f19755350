-- POSTs the JSON body in $GH_BODY (an authz/check question) to the URL given to wrk;
-- the credential comes with -H "Authorization: Bearer ...".
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("GH_BODY")
