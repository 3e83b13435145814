import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nativeParserClass, type NativeHttpParserClass } from './http-parser.js';
import { selfTestNativeParser } from './parser-self-test.js';

describe("the self-test of Node's HTTP parser", () => {
  it('passes on this Node', () => {
    assert.equal(selfTestNativeParser(), null);
  });

  it('says clearly when the parser is missing', () => {
    assert.match(selfTestNativeParser(() => new Error('Cannot find module')) ?? '', /not available: Cannot find module/);
  });

  it('catches a parser that reports bodies, keep-alive or errors differently', () => {
    const Real = nativeParserClass() as NativeHttpParserClass;
    // A Node whose parser numbered its callbacks differently: bodies would never reach the client.
    class Renumbered extends Real {
      static override kOnBody = Real.kOnMessageComplete;
      static override kOnMessageComplete = Real.kOnBody;
    }
    assert.match(selfTestNativeParser(() => Renumbered) ?? 'passed', /^Node's HTTP parser /);
    // A parser that throws where it used to return its error.
    class Throwing extends Real {
      override execute(): number | Error {
        throw new Error('execute changed');
      }
    }
    assert.match(selfTestNativeParser(() => Throwing) ?? '', /failed: execute changed/);
  });
});
