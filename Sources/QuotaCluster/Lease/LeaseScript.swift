/// The one Lua script of the lease protocol: every lease call (grant, renewal, release,
/// reconciliation) is one atomic EVALSHA of it on the limit's Redis key, never one per request.
///
/// The key is a hash: `v` (calendar: units counted against the limit; rolling: the cluster
/// GCRA theoretical arrival time in µs of Redis time) and, per participant `p` (a pod's slot
/// incarnation), `g:p` (units granted, cumulative), `u:p` (units consumed, cumulative, net of
/// refunds) and `x:p` (lease expiry, µs; negative = expired at that time). A participant
/// counts `max(g, u)` against the limit while its lease is live (what it consumed plus what it
/// still holds) and `u` after expiry (the unused hold went back).
///
/// A grant is at most a quarter of what is left per live participant and at most 4 % of the
/// limit per live participant (never less than the waiting request's cost): slices shrink to
/// single requests near exhaustion, and when one pod first refuses, the others hold at most
/// about 4 % of the limit between them (what a budget can have left when 429s start).
///
/// Every call carries the pod's *absolute* G and U, and the script first moves the
/// participant's contribution from what Redis recorded to what the pod reports. That makes
/// every call idempotent and self-healing: a lost reply (the grant is reported again as not
/// applied and dropped), a Redis that lost its data (the pod's record is rebuilt: calendar
/// windows recount all of its consumption, rolling windows its current hold), a lease that
/// expired while the pod kept spending through an outage (that spending is charged now), all
/// converge without double counting.
///
/// KEYS: 1 the limit's key, 2 the epoch key (one per key prefix: the id of this Redis's life
/// and the end of its rebuild window). ARGV: 1 participant, 2 G, 3 U, 4 want (hold increase
/// wished), 5 need (smallest useful increase; 0 = renew/release only), 6 lease TTL ms,
/// 7 "r" rolling | "c" calendar, 8 limit, 9 rolling: period µs | calendar: key expiry ms,
/// 10 "1" on the participant's first call, 11 the epoch the pod knows ("" = none yet),
/// 12 the rebuild window ms.
/// Returns {grant, units left unleased, live participants, retry µs (-1 = at window end,
/// 0 = not refused), epoch}.
///
/// Rebuild window: when a pod that knew an earlier epoch meets a Redis without one (it
/// restarted empty, or failed over to a replica that lost writes), the new epoch starts with
/// a window (a third of a lease TTL plus two sync intervals) in which calls are reconciled but
/// nothing is granted, so the other pods report their consumption before anyone leases
/// against a partial count. A call that asked for units and got none is refused (for `need`, the
/// waiting requests are; for a prefetch, only the pod's next prefetch waits).
enum LeaseScript {
    static let script = RedisScript("""
        local id = ARGV[1]
        local G, U = tonumber(ARGV[2]), tonumber(ARGV[3])
        local want, need = tonumber(ARGV[4]), tonumber(ARGV[5])
        local ttl = tonumber(ARGV[6]) * 1000
        local rolling = ARGV[7] == 'r'
        local limit, span = tonumber(ARGV[8]), tonumber(ARGV[9])
        local first = ARGV[10] == '1'
        local known = ARGV[11] or ''
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local function num(x) return string.format('%.0f', x) end
        -- This Redis's life: a pod that knew another one means Redis lost its data; until the
        -- other pods had time to report (the rebuild window), nothing is granted.
        local epoch = redis.call('HGET', KEYS[2], 'id')
        local rebuild = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
        if not epoch then
          epoch = num(now)
          rebuild = 0
          if known ~= '' then rebuild = now + tonumber(ARGV[12]) * 1000 end
          redis.call('HSET', KEYS[2], 'id', epoch, 'until', num(rebuild))
        elseif known ~= '' and known ~= epoch then
          local r = now + tonumber(ARGV[12]) * 1000
          if r > rebuild then
            rebuild = r
            redis.call('HSET', KEYS[2], 'until', num(r))
          end
        end
        local h = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do h[all[i]] = tonumber(all[i + 1]) end
        local v = h['v'] or 0
        local per = 0
        if rolling then per = span / limit end
        local function charge(d)
          if d == 0 then return end
          if rolling then
            if d > 0 then v = math.max(v, now) + math.ceil(d * per) else v = v - math.floor(-d * per) end
          else
            v = math.max(0, v + d)
          end
        end
        -- Other participants: expired leases give their unused hold back.
        local live, othersHold = 1, 0
        for f, x in pairs(h) do
          if string.sub(f, 1, 2) == 'x:' then
            local p = string.sub(f, 3)
            if p ~= id then
              local hold = math.max(0, (h['g:' .. p] or 0) - (h['u:' .. p] or 0))
              if x > now then
                live = live + 1
                othersHold = othersHold + hold
              elseif x > 0 then
                charge(-hold)
                redis.call('HSET', KEYS[1], f, num(-now))
              elseif rolling and now + x > span + ttl then
                redis.call('HDEL', KEYS[1], f, 'g:' .. p, 'u:' .. p)
              end
            end
          end
        end
        -- This participant: move its contribution to what it reports.
        local x = h['x:' .. id]
        local old
        if x == nil then
          if rolling and not first then old = U else old = 0 end
        else
          local g0, u0 = h['g:' .. id] or 0, h['u:' .. id] or 0
          if x > now then
            old = math.max(g0, u0)
          else
            if x > 0 then charge(-math.max(0, g0 - u0)) end
            old = u0
          end
        end
        charge(math.max(G, U) - old)
        local avail
        if rolling then avail = math.floor((now + span - math.max(v, now)) / per) else avail = limit - v end
        if avail < 0 then avail = 0 end
        local inc = 0
        if (want > 0 or need > 0) and now >= rebuild then
          local cap = math.min(math.floor(avail / (4 * live)), math.floor(limit * 0.04 / live))
          inc = math.min(math.max(want, need), math.max(need, cap))
          if inc > avail then inc = avail end
          if inc < need then inc = 0 end
        end
        local grant = 0
        if inc > 0 then
          grant = inc + math.max(0, U - G)
          charge(inc)
        end
        local retry = 0
        if inc == 0 and (need > 0 or want > 0) then
          if now < rebuild then
            retry = rebuild - now
          elseif rolling then
            retry = math.max(1000, math.max(v, now) + math.ceil(math.max(need, 1) * per) - now - span)
          elseif othersHold > 0 then
            retry = ttl
          else
            retry = -1
          end
        end
        redis.call('HSET', KEYS[1], 'v', num(v), 'g:' .. id, num(G + grant), 'u:' .. id, num(U), 'x:' .. id, num(now + ttl))
        if rolling then
          redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) * 2 + math.ceil(ttl / 1000))
        else
          redis.call('PEXPIRE', KEYS[1], span)
        end
        return {grant, avail - inc, live, retry, epoch}
        """)
}
