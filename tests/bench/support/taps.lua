-- wrk script for bench_http_taps.py: POST /api/v1/taps with a device token.
--
--   wrk -t1 -cN -dDs --timeout 10s -s taps.lua URL -- TAG TOKEN DOOR_IN DOOR_OUT UID=LABEL=in|out ...
--
-- Each request takes a badge that has no tap in flight (a FIFO of free badges; the
-- answer, which names the badge, gives it back), so a badge's taps never overlap and
-- each one goes to the door its state calls for: door_in while the badge is outside,
-- door_out after a granted entry (the state each badge starts in is given, "in" or
-- "out"). Every tap is then a real, granted entry or exit. event_id = TAG-<badge>-<n>,
-- n counting that badge's taps from 1, so the bench can name from the counts below
-- exactly which taps were answered, and resend the ones wrk left in flight.
--
-- Run with one thread (-t1): the pool of free badges lives in that thread, and wrk
-- calls request() once on thread 1's state before the run to check what it returns
-- (script_verify_request); that call is answered without taking a badge.
-- done() prints one line: "BENCH-RESULT {json}".

local tag, token, door_in, door_out
local headers
local badges = {}      -- index -> uid
local by_label = {}    -- label -> index
local verified = false
local free, head, tail = {}, 1, 0

sent = {}              -- index -> taps sent (read by done() through thread:get)
answered = {}          -- index -> 2xx answers
inside = {}            -- index -> 1 after a granted entry, 0 after a granted exit
ok, bad, denied, fallback, unmatched = 0, 0, 0, 0, 0
reasons = {}           -- reason of a refusal -> count
local rr, nbadges = 0, 0

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   tag, token, door_in, door_out = args[1], args[2], args[3], args[4]
   for i = 5, #args do
      local uid, label, where = string.match(args[i], "^([^=]+)=([^=]+)=(%a+)$")
      nbadges = nbadges + 1
      badges[nbadges] = uid
      by_label[label] = nbadges
      sent[nbadges], answered[nbadges] = 0, 0
      inside[nbadges] = (where == "in") and 1 or 0
      tail = tail + 1
      free[tail] = nbadges
   end
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
   }
end

function request()
   if not verified then  -- wrk's check of the script, never sent
      verified = true
      return wrk.format("POST", nil, headers, '{}')
   end
   local b
   if head <= tail then
      b = free[head]
      free[head] = nil
      head = head + 1
   else
      -- no free badge: only after answers that did not name their badge (errors)
      rr = rr % nbadges + 1
      b = rr
      fallback = fallback + 1
   end
   sent[b] = sent[b] + 1
   local reader = inside[b] == 1 and door_out or door_in
   local body = string.format('{"reader":"%s","uid":"%s","event_id":"%s-%d-%d"}',
                              reader, badges[b], tag, b, sent[b])
   return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
   local good = status >= 200 and status < 300
   if good then ok = ok + 1 else bad = bad + 1 end
   local label = body and string.match(body, '"badge"%s*:%s*"([^"]*)"')
   local b = label and by_label[label]
   if not b then
      unmatched = unmatched + 1
      return
   end
   if good then answered[b] = answered[b] + 1 end
   local reason = string.match(body, '"reason"%s*:%s*"([^"]*)"') or "?"
   if string.find(body, '"granted"%s*:%s*true') then
      if reason == "entry" then inside[b] = 1 elseif reason == "exit" then inside[b] = 0 end
   else
      denied = denied + 1
      reasons[reason] = (reasons[reason] or 0) + 1
   end
   tail = tail + 1
   free[tail] = b
end

local function list(t)
   local parts = {}
   for i = 1, #t do parts[i] = tostring(t[i]) end
   return "[" .. table.concat(parts, ",") .. "]"
end

function done(summary, latency, requests)
   local s_sent, s_answered, s_inside = {}, {}, {}
   local n_ok, n_bad, n_denied, n_fallback, n_unmatched = 0, 0, 0, 0, 0
   local why = {}
   for _, thread in ipairs(threads) do
      local ts, ta, ti = thread:get("sent"), thread:get("answered"), thread:get("inside")
      for i = 1, #ts do
         s_sent[i] = (s_sent[i] or 0) + ts[i]
         s_answered[i] = (s_answered[i] or 0) + ta[i]
         s_inside[i] = ti[i]
      end
      n_ok = n_ok + thread:get("ok")
      n_bad = n_bad + thread:get("bad")
      n_denied = n_denied + thread:get("denied")
      n_fallback = n_fallback + thread:get("fallback")
      n_unmatched = n_unmatched + thread:get("unmatched")
      for k, v in pairs(thread:get("reasons")) do why[k] = (why[k] or 0) + v end
   end
   local why_parts = {}
   for k, v in pairs(why) do table.insert(why_parts, string.format('"%s":%d', k, v)) end
   local e = summary.errors
   io.write(string.format(
      'BENCH-RESULT {"duration_s":%.6f,"completed":%d,"ok":%d,"bad":%d,"denied":%d,' ..
      '"denials":{%s},"fallback":%d,"unmatched":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
      '"sent":%s,"answered":%s,"inside":%s}\n',
      summary.duration / 1e6, summary.requests, n_ok, n_bad, n_denied,
      table.concat(why_parts, ","), n_fallback, n_unmatched,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
      latency.mean / 1e3, list(s_sent), list(s_answered), list(s_inside)))
end
