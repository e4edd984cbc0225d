set terminal pngcairo size 900,560 font ",11"
set output 'latency-cdf.png'
set title 'Ping-pong round trip (CDF)'
set xlabel 'round-trip latency (ms, log scale)'
set ylabel 'fraction of round trips'
set logscale x
set grid
set key bottom right
set yrange [0:1]
plot 'cdf-bayeux-glib-cometd.dat' using 1:2 with lines lw 2 title 'bayeux-glib on cometd, long-polling (p50 1.26 ms)', \
     'cdf-cometd-js-cometd.dat' using 1:2 with lines lw 2 title 'cometd-js on cometd, long-polling (p50 1.29 ms)', \
     'cdf-bayeux-glib-faye.dat' using 1:2 with lines lw 2 title 'bayeux-glib on faye, long-polling (p50 3.83 ms)', \
     'cdf-faye-node-faye.dat' using 1:2 with lines lw 2 title 'faye-node on faye, long-polling (p50 7.44 ms)', \
     'cdf-bayeux-glib-faye-websocket.dat' using 1:2 with lines lw 2 title 'bayeux-glib on faye, websocket (p50 0.65 ms)', \
     'cdf-faye-node-faye-websocket.dat' using 1:2 with lines lw 2 title 'faye-node on faye, websocket (p50 0.62 ms)'
