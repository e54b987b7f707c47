"""Real, unmodified ChatJS (npm 5.0.0 and 3.0.3) as a chat customer against Parley, in Node.js and in Chromium."""
