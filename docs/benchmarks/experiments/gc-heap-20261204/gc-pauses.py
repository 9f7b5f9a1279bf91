# Young collections of the scenario JVM (from -Xlog:gc:file=...:time,uptime) during each measured part of a
# priority-isolation run (from its console): python3 gc-pauses.py console.txt gc.log
import re,sys,datetime
con=open(sys.argv[1]).read().splitlines()
gc=open(sys.argv[2]).read().splitlines()
pauses=[]
for l in gc:
    m=re.match(r'\[(\d+-\d+-\d+T[\d:.]+)\+0000\].*Pause (\S+).* (\d+)M->(\d+)M\((\d+)M\) ([\d.]+)ms',l)
    if m:
        t=datetime.datetime.fromisoformat(m.group(1))
        pauses.append((t,m.group(2),float(m.group(6)),int(m.group(5))))
day=pauses[0][0].date()
marks=[]
for l in con:
    m=re.match(r'\[(\d\d:\d\d:\d\d) priority-isolation\] (.*)',l)
    if m: marks.append((datetime.datetime.combine(day,datetime.time.fromisoformat(m.group(1))),m.group(2)))
# intervals: from a "JIT quiet" / start line to the next result line
seen_bare=False
for i,(t,txt) in enumerate(marks[:-1]):
    seen_bare = seen_bare or txt.startswith('bare exactly')
    if txt.startswith('bare exactly') or txt.startswith('  before the realtime load'):
        end=marks[i+1][0]
        ps=[p for p in pauses if t<=p[0]<end]
        dur=(end-t).total_seconds()
        label=txt[:40] if txt.startswith('bare') else ('router run' if seen_bare else 'router warm-up run (discarded)')
        print(f"{t.time()} {label:42s} {dur:5.0f}s pauses {len(ps):3d} total {sum(p[2] for p in ps):7.1f} ms  mean {sum(p[2] for p in ps)/max(1,len(ps)):5.1f} max {max([p[2] for p in ps] or [0]):5.1f} heap {set(p[3] for p in ps)}  next: {marks[i+1][1][:70]}")
