import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
const db = new Database('/tmp/x.db'); db.exec("create table if not exists Invitation (codeHash TEXT primary key, authorityId TEXT not null, createdAt DATETIME not null, expiresAt DATETIME not null, usedAt DATETIME)");
const { PrismaClient } = await import('./server/storage/generated/client.ts');
