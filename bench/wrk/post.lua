-- wrk script of callback-router's benchmark (go run ./bench): POSTs a Live gift callback the way
-- Tencent does, and prints machine-readable results ("BENCH key value" lines) at the end.
--
-- By hand, against a router on :8080:
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/post.lua \
--     'http://127.0.0.1:8080/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android'
--
-- The body must stay equal to giftBody in bench/loadgen.go (a unit test checks it).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"viewer_mia","RoomId":"live_anchor_lily_0601","GiftWater":{"From_Account":"viewer_mia","To_Account":["anchor_lily"],"Time":1717236000,"GiftId":"rocket","Count":2,"Coins":1000}}]]

function done(summary, latency, requests)
   local e = summary.errors
   local out = {
      {"requests", summary.requests},
      {"duration_us", summary.duration},
      {"bytes", summary.bytes},
      {"errors_connect", e.connect},
      {"errors_read", e.read},
      {"errors_write", e.write},
      {"errors_status", e.status},
      {"errors_timeout", e.timeout},
      {"latency_p50_us", latency:percentile(50)},
      {"latency_p99_us", latency:percentile(99)},
      {"latency_p999_us", latency:percentile(99.9)},
      {"latency_max_us", latency.max},
   }
   for _, kv in ipairs(out) do
      io.write(string.format("BENCH %s %d\n", kv[1], kv[2]))
   end
end
