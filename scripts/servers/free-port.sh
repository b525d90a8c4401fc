# Sourced by the server scripts: free_port prints a TCP port free on 127.0.0.1 right now.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  while :; do
    port=$(( (RANDOM * 32768 + RANDOM) % 20000 + 20000 ))
    # Nothing answers there: free (a connect attempt, no listener needed on our side).
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# wait_gone PID SECONDS: waits until the process has exited; returns 1 if it is still there.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
