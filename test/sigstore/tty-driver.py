"""Runs a command in a pseudo-terminal, answering each password prompt in turn.

argv[1]: JSON list, the command; argv[2]: JSON list of answers; argv[3]: JSON env overrides.
Prints JSON {"status": exit code, "output": everything the terminal showed}.
"""
import json, os, pty, sys, time

cmd, answers, env_over = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
env = {k: v for k, v in os.environ.items() if k != 'COSIGN_PASSWORD'}
env.update(env_over)
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(cmd[0], cmd, env)

out = b''
PROMPT = b'Enter password for private key'

def pump(until, timeout=30.0):
    global out
    end = time.time() + timeout
    while not until():
        if time.time() > end:
            sys.stderr.write('timeout; output so far: %r\n' % out)
            return False
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
    return True

for i, answer in enumerate(answers):
    if not pump(lambda: out.count(PROMPT) > i):
        break
    time.sleep(0.05)
    os.write(fd, answer.encode('utf-8'))

pump(lambda: False)  # drain until EOF
_, status = os.waitpid(pid, 0)
print(json.dumps({'status': os.waitstatus_to_exitcode(status), 'output': out.decode('utf-8', 'replace')}))
