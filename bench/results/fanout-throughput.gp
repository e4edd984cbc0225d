set terminal pngcairo size 900,560 font ",11"
set output 'fanout-throughput.png'
set title 'Fan-out: subscriber CPU per delivered message, step by step'
set xlabel 'messages delivered a second (log scale)'
set ylabel 'client CPU per message (µs, log scale)'
set logscale xy
set grid
set key top right
plot 'fanout-bayeux-glib-cometd-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib on cometd, long-polling', \
     'fanout-cometd-js-cometd-long-polling.dat' using 1:2 with linespoints lw 2 title 'cometd-js on cometd, long-polling', \
     'fanout-bayeux-glib-python-cometd-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-python on cometd, long-polling', \
     'fanout-bayeux-glib-gjs-cometd-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-gjs on cometd, long-polling', \
     'fanout-bayeux-glib-faye-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib on faye, long-polling', \
     'fanout-faye-node-faye-long-polling.dat' using 1:2 with linespoints lw 2 title 'faye-node on faye, long-polling', \
     'fanout-bayeux-glib-python-faye-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-python on faye, long-polling', \
     'fanout-bayeux-glib-gjs-faye-long-polling.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-gjs on faye, long-polling', \
     'fanout-bayeux-glib-faye-websocket.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib on faye, websocket', \
     'fanout-faye-node-faye-websocket.dat' using 1:2 with linespoints lw 2 title 'faye-node on faye, websocket', \
     'fanout-bayeux-glib-python-faye-websocket.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-python on faye, websocket', \
     'fanout-bayeux-glib-gjs-faye-websocket.dat' using 1:2 with linespoints lw 2 title 'bayeux-glib-gjs on faye, websocket'
