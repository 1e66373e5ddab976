// The tutorial's stack written plainly (sections 2.2–3.1 of the seed):
// Express + socket.io v4 with JWT handshake auth, rooms and acks, speaking
// the same events and payloads as our gateway for everything the benchmark
// scenarios use. Messages live in memory: the reference's best case, since
// it pays no persistence cost at all.
"use strict";

const http = require("http");
const crypto = require("crypto");
const express = require("express");
const bcrypt = require("bcryptjs");
const jwt = require("jsonwebtoken");
const { Server } = require("socket.io");

const JWT_SECRET = process.env.JWT_SECRET || crypto.randomBytes(32).toString("hex");
// The tutorial's 15 minutes; the bench passes a day so tokens outlive a run.
const TOKEN_TTL = process.env.ACCESS_TOKEN_TTL_SECS ? Number(process.env.ACCESS_TOKEN_TTL_SECS) : "15m";
const PORT = Number(process.env.PORT || 5001);

const users = new Map(); // lower-cased name -> { id, username, hash }
const rooms = new Map(); // room -> [message]
let seq = 0;

const app = express();
app.use(express.json());

function issue(user) {
  const token = jwt.sign({ sub: user.id, username: user.username }, JWT_SECRET, { expiresIn: TOKEN_TTL });
  return { token, refreshToken: crypto.randomBytes(32).toString("base64url"), user: { id: user.id, username: user.username, avatar: null } };
}

app.post("/register", async (req, res) => {
  const { username, password } = req.body || {};
  if (typeof username !== "string" || typeof password !== "string" || !/^[A-Za-z0-9_.-]{3,32}$/.test(username) || password.length < 8) {
    return res.status(400).json({ error: "Invalid username or password" });
  }
  if (users.has(username.toLowerCase())) return res.status(409).json({ error: "Username is already taken" });
  const user = { id: crypto.randomUUID(), username, hash: await bcrypt.hash(password, 10) };
  users.set(username.toLowerCase(), user);
  res.status(201).json(issue(user));
});

app.post("/login", async (req, res) => {
  const { username, password } = req.body || {};
  const user = typeof username === "string" && users.get(username.toLowerCase());
  if (!user || typeof password !== "string" || !(await bcrypt.compare(password, user.hash))) {
    return res.status(401).json({ error: "Invalid credentials" });
  }
  res.json(issue(user));
});

app.get("/healthz", (_req, res) => res.json({ status: "ok" }));

const server = http.createServer(app);
const io = new Server(server, { cors: { origin: "*" } });

function authenticate(socket, next) {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (!token) return next(new Error("No token provided"));
  try {
    socket.user = jwt.verify(token, JWT_SECRET);
    next();
  } catch {
    next(new Error("Authentication error"));
  }
}

function page(list, limit) {
  const messages = list.slice(Math.max(0, list.length - limit));
  return { messages, hasMore: list.length > messages.length };
}

function chat(nsp) {
  nsp.use(authenticate);
  nsp.on("connection", (socket) => {
    socket.on("joinRoom", ({ room, limit } = {}, ack) => {
      room = room || "general";
      socket.join(room);
      const { messages, hasMore } = page(rooms.get(room) || [], Number(limit) || 50);
      socket.emit("previousMessages", messages);
      if (typeof ack === "function") ack({ ok: true, room, messages, hasMore });
    });
    socket.on("sendMessage", ({ content, room, clientId } = {}, ack) => {
      room = room || "general";
      const message = {
        id: String(++seq).padStart(12, "0"),
        room,
        sender: socket.user.username,
        content: String(content || "").trim(),
        avatar: null,
        timestamp: new Date().toISOString(),
        clientId: clientId ?? null,
        attachments: [],
        editedAt: null,
        deleted: false,
      };
      if (!rooms.has(room)) rooms.set(room, []);
      rooms.get(room).push(message);
      nsp.to(room).emit("message", message);
      if (typeof ack === "function") ack({ ok: true, message });
    });
    socket.on("history", ({ room, before, limit } = {}, ack) => {
      let list = rooms.get(room) || [];
      if (before) {
        const i = list.findIndex((m) => m.id === before);
        list = i < 0 ? [] : list.slice(0, i);
      }
      const { messages, hasMore } = page(list, Math.min(Number(limit) || 50, 200));
      if (typeof ack === "function") ack({ ok: true, messages, hasMore });
    });
  });
}

chat(io.of("/chat"));
chat(io.of("/"));

server.listen(PORT, "127.0.0.1", () => console.log(`reference listening on ${PORT}`));
