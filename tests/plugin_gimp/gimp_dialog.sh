#!/bin/sh
# Run inside the test chroot under xvfb-run: start GIMP with its interface, let
# gimp_dialog_batch.py call the plug-in interactively, wait for the plug-in's dialog,
# optionally save a screenshot of it ($1), and press OK (Return on the focused dialog).
T=$OSDD_TEST_DIR
gimp-3.0 --no-data --no-fonts --no-splash --batch-interpreter=python-fu-eval \
    -b "exec(open('$T/gimp_dialog_batch.py').read())" --quit > "$T/gimp_dialog.log" 2>&1 &
GIMP=$!
for _ in $(seq 1 90); do
    WINDOW=$(xdotool search --name "Motion Deblur" 2>/dev/null | head -1)
    [ -n "$WINDOW" ] && break
    sleep 1
done
if [ -z "$WINDOW" ]; then echo "the dialog never appeared"; kill $GIMP; exit 1; fi
sleep 3  # the dialog asks the server what it offers before it is complete
[ -n "$1" ] && python3 "$T/screenshot.py" "$1"
xdotool windowfocus --sync "$WINDOW"
xdotool key Return
wait $GIMP
