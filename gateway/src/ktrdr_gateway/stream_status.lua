-- KTRDR edge, second Lua filter: between the gRPC-JSON transcoder and the router.
-- Request: the transcoder marks a request it rewrote from REST with x-envoy-original-path (the
-- whole original path, however long); that header is replaced by the marker x-ktrdr-rest, and
-- x-ktrdr-rpc names the gRPC method for the access log.
-- Response of a REST stream (flagged by the auth filter in the dynamic metadata ktrdr.ndjson):
-- a non-OK gRPC status in the trailers is stored as JSON in ktrdr.error, so the auth filter can
-- append it as the stream's last NDJSON line once the transcoder closes the array.

function envoy_on_request(handle)
  local headers = handle:headers()
  if headers:get("x-envoy-original-path") then
    headers:remove("x-envoy-original-path")
    headers:replace("x-ktrdr-rest", "1")
  end
  local path = string.match(headers:get(":path") or "", "^[^?]*")
  headers:replace("x-ktrdr-rpc", bounded(redact(path), 200))
end

local function status_json(trailers, status)
  local given = trailers:get("x-ktrdr-error-json")
  if given then return given end
  -- Not from a KTRDR service (no JSON trailer): build the same shape from grpc-message.
  local message = percent_decode(trailers:get("grpc-message") or "")
  local code = string.match(message, "^%[([A-Z][A-Z_]*%-%d%d%d)%] ")
  if not code then
    code = "GATEWAY-007"
    message = "[GATEWAY-007] The stream failed: " .. (message ~= "" and message or "no reason given")
  end
  return '{"code":' .. tonumber(status) .. ',"message":' .. json_str(message)
    .. ',"details":[{"@type":"type.googleapis.com/ktrdr.common.v1.ErrorDetail","code":"'
    .. code .. '","message":"","field":"","suggestions":[],"metadata":{}}]}'
end

function envoy_on_response(handle)
  local meta = handle:streamInfo():dynamicMetadata():get("ktrdr")
  if not (meta and meta.ndjson) then return end
  local trailers = handle:trailers()
  if not trailers then return end
  local status = trailers:get("grpc-status")
  if status and status ~= "0" and tonumber(status) then
    handle:streamInfo():dynamicMetadata():set("ktrdr", "error", status_json(trailers, status))
  end
  trailers:remove("x-ktrdr-error-json")
end
