# Scenario 4's user script: its first statement records when user code started; nothing else to do.
import time

T_FIRST_LINE = time.time()
print(f"BENCH_FIRST_LINE {T_FIRST_LINE!r}", flush=True)
