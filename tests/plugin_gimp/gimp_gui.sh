#!/bin/sh
# Run inside the test chroot under xvfb-run, as a user would work: start GIMP with its
# interface and let gimp_gui_batch.py drive it. This side plays the user: when the
# plug-in's dialog opens it saves a screenshot ($1) and presses OK; each time the batch
# script asks (file ready-N), it presses Ctrl+Z once in the image window (then undone-N).
T=$OSDD_TEST_DIR
gimp-3.0 --no-data --no-fonts --no-splash --batch-interpreter=python-fu-eval \
    -b "exec(open('$T/gimp_gui_batch.py').read())" --quit > "$T/gimp_gui.log" 2>&1 &
GIMP=$!

find_window() {  # $1: title pattern; waits up to 90 s
    for _ in $(seq 1 90); do
        WINDOW=$(xdotool search --name "$1" 2>/dev/null | head -1)
        [ -n "$WINDOW" ] && return 0
        sleep 1
    done
    echo "no window named $1"
    return 1
}

find_window "Motion Deblur" || { kill $GIMP; exit 1; }
sleep 3  # the dialog asks the server what it offers before it is complete
[ -n "$1" ] && python3 "$T/screenshot.py" "$1"
xdotool windowfocus --sync "$WINDOW"
xdotool key Return

for n in 1 2; do
    for _ in $(seq 1 120); do [ -f "$T/ready-$n" ] && break; sleep 1; done
    [ -f "$T/ready-$n" ] || { echo "the batch never asked for undo $n"; break; }
    find_window "– GIMP" || break  # the image window: "*[Untitled]-1.0 (...) 224x192 – GIMP"
    xdotool windowfocus --sync "$WINDOW"
    xdotool key ctrl+z
    sleep 1
    touch "$T/undone-$n"
done
wait $GIMP
