/**
 * `@apikit/rate-limit`'s quota arithmetic (`internal/quota.ts`) in Lua, one
 * script per operation, so that every instance's acquire and release are
 * atomic on one hash per key. Keep the two in step: the same contract suite
 * (packages/redis/test/QuotaStore.test.ts) runs against both.
 */

import { presumedLost } from "@apikit/rate-limit/QuotaStore"

const state = `
local v = redis.call("HMGET", KEYS[1], "e", "r", "t", "o", "n", "m", "l", "w", "p")
local s = { e = tonumber(v[1]) or 0, r = tonumber(v[2]) or -1, t = tonumber(v[3]) or 0, o = tonumber(v[4]) or 0,
  n = tonumber(v[5]) or 0, m = tonumber(v[6]) or 0, l = tonumber(v[7]) or 0, w = tonumber(v[8]) or 0,
  p = tonumber(v[9]) or 0 }
local function save(now, idle)
  redis.call("HSET", KEYS[1], "e", s.e, "r", s.r, "t", s.t, "o", s.o, "n", s.n, "m", s.m, "l", s.l, "w", s.w, "p", s.p)
  redis.call("PEXPIRE", KEYS[1], math.ceil(math.max(s.t, s.p, now) - now + idle))
end
local function shift()
  s.e = s.e + 1
  s.m = s.n
  s.n = 0
  s.t = 0
end
local function roll()
  shift()
  if s.l > 0 then s.r = s.l else s.r = -1 end
  s.o = 0
end
local function opt(x)
  local n = tonumber(x)
  if n == nil or n < 0 then return nil end
  return n
end
`

/** ARGV: now, cost, configured limit, configured window, idle ms. Returns {0, epoch} | {1, until, paused} | {2, limit}. */
export const acquireLua = `${state}
local now, cost, configured, fallback, idle = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if s.p > now then
  save(now, idle)
  return { 1, s.p, 1 }
end
if s.t > 0 and now >= s.t then
  if s.r < 0 then
    shift()
  else
    local window = s.w
    if window == 0 then window = fallback end
    local hold = s.t + math.min(window, ${presumedLost})
    if s.o == 1 or s.n == 0 or now >= hold then
      roll()
    else
      save(now, idle)
      return { 1, hold, 0 }
    end
  end
end
if s.r < 0 then
  if s.t == 0 then
    local window = s.w
    if window == 0 then window = fallback end
    s.t = now + math.max(window, ${presumedLost})
  end
  s.n = s.n + cost
  save(now, idle)
  return { 0, s.e }
end
local offset = 0
if s.l > 0 and s.w > 0 then offset = math.max(0, s.l - math.floor(configured * s.w / fallback)) end
if s.l > 0 and cost > s.l - offset then
  save(now, idle)
  return { 2, s.l - offset }
end
if s.t == 0 then
  if s.w > 0 then s.t = now + s.w else s.t = now + fallback end
end
if cost <= s.r - offset - s.n - s.m then
  s.n = s.n + cost
  save(now, idle)
  return { 0, s.e }
end
save(now, idle)
return { 1, s.t, 0 }
`

/**
 * A release (epoch >= 0) or a report (epoch -1). ARGV: now, cost, epoch, sent (0/1), observed (0/1),
 * limit, remaining, resetAt, window, pauseUntil (-1 for none), configured window, idle ms.
 * Returns {changed, limit, window, available} (0 / -1 for unknown).
 */
export const releaseLua = `${state}
local now, cost, epoch, sent, observed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == "1", ARGV[5] == "1"
local olimit, oremaining, oreset, owindow, opause = opt(ARGV[6]), opt(ARGV[7]), opt(ARGV[8]), opt(ARGV[9]), opt(ARGV[10])
local fallback, idle = tonumber(ARGV[11]), tonumber(ARGV[12])
local changed = 0
local function observe(e)
  if opause ~= nil and opause > s.p then s.p = opause end
  if olimit ~= nil and olimit > 0 and olimit ~= s.l then
    s.l = olimit
    changed = 1
  end
  if owindow ~= nil and owindow > 0 and owindow ~= s.w then
    s.w = owindow
    changed = 1
  end
  if oremaining == nil then return end
  local remaining = oremaining
  if s.l > 0 then remaining = math.min(remaining, s.l) end
  local window = s.w
  if window == 0 then window = fallback end
  local resetAt = oreset
  if resetAt == nil then resetAt = now + window end
  resetAt = math.max(now, resetAt)
  if s.r >= 0 and s.t > 0 and resetAt >= s.t + window / 2 then
    roll()
  elseif s.r >= 0 and e >= 0 and e ~= s.e then
    if remaining < s.r then s.r = remaining end
    return
  end
  if s.o == 0 then
    s.r = remaining
    s.t = resetAt
    s.o = 1
  elseif remaining <= s.r then
    s.r = remaining
    s.t = math.min(s.t, resetAt)
  end
end
if epoch >= 0 then
  if epoch == s.e then s.n = math.max(0, s.n - cost) elseif epoch == s.e - 1 then s.m = math.max(0, s.m - cost) end
end
if epoch < 0 or sent then
  if observed then
    observe(epoch)
  end
  if oremaining == nil and epoch == s.e and s.r >= 0 then s.r = math.max(0, s.r - cost) end
end
save(now, idle)
local available = -1
if s.r >= 0 and not (s.t > 0 and now >= s.t) then available = math.max(0, s.r - s.n - s.m) end
return { changed, s.l, s.w, available }
`
