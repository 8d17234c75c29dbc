-- wrk script: POST one fixed JSON body; bench/run.py uses it for both endpoints.
-- Script args (after "--" on the wrk command line): the body, then zero or more
-- "Name: value" header lines.
--
-- No global request() is defined on purpose: wrk then formats the request once from
-- wrk.method/body/headers after init() and reuses the bytes, so the load generator
-- spends as little of the shared 2 cores as possible.

function init(args)
   wrk.method = "POST"
   wrk.body = args[1]
   wrk.headers["Content-Type"] = "application/json"
   for i = 2, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      if name == nil then
         error("bad header argument: " .. args[i])
      end
      wrk.headers[name] = value
   end
end
