import { expect } from 'chai';
import { defineSchema, isIsoDate, ruleViolation, typeProblem } from '../../src/domain/index.js';
import { librarySchema } from './library-schema.js';

const attribute = (concept: string, name: string) => librarySchema.concepts.get(concept)!.attributes.get(name)!;

describe('defineSchema', () => {
  it('compiles concepts, attributes in declaration order, and relations', () => {
    const author = librarySchema.concepts.get('Author')!;
    expect([...author.attributes.keys()]).to.deep.equal(['name', 'email', 'born', 'rating', 'books', 'active', 'code', 'stamp']);
    expect(author.children.get('works')).to.deep.equal({ name: 'works', concept: 'Author', target: 'Book' });
    expect(attribute('Author', 'email')).to.deep.include({ unique: true, indexed: true });
    expect(attribute('Book', 'author')).to.deep.include({ target: 'Author', indexed: true });
    expect(librarySchema.maxStringLength).to.equal(1000);
  });

  const bad: Array<[string, Parameters<typeof defineSchema>[0], RegExp]> = [
    ['a reserved name', { concepts: { $Thing: { attributes: {} } } }, /not an identifier/],
    ['a prototype name', { concepts: { T: { attributes: { __proto__x: { type: 'string' } }, children: { ['__proto__']: { concept: 'T' } } } } }, /not an identifier/],
    ['a reference to an undeclared concept', { concepts: { T: { attributes: { r: { type: 'reference', concept: 'Nope' } } } } }, /undeclared concept Nope/],
    ['a relation to an undeclared concept', { concepts: { T: { attributes: {}, children: { kids: { concept: 'Nope' } } } } }, /undeclared concept Nope/],
    ['a name used twice', { concepts: { T: { attributes: { x: { type: 'string' } }, children: { x: { concept: 'T' } } } } }, /both an attribute and a relation/],
    ['an empty enum', { concepts: { T: { attributes: { e: { type: 'enum', values: [] } } } } }, /needs values/],
    ['a default of the wrong type', { concepts: { T: { attributes: { n: { type: 'integer', default: 'one' } } } } }, /default value/],
    ['a default breaking a rule', { concepts: { T: { attributes: { n: { type: 'integer', min: 5, default: 1 } } } } }, /default value/],
    ['a non-finite bound', { concepts: { T: { attributes: { n: { type: 'number', max: Infinity } } } } }, /max must be a finite number/],
    ['a bad string cap', { concepts: {}, maxStringLength: 0 }, /maxStringLength/],
  ];
  for (const [what, declaration, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => defineSchema(declaration)).to.throw(message);
    });
  }
});

describe('attribute rules', () => {
  it('checks types and the string cap; null fits every type', () => {
    expect(typeProblem(attribute('Author', 'name'), 'Ada', 10)).to.equal(undefined);
    expect(typeProblem(attribute('Author', 'name'), 'x'.repeat(11), 10)).to.match(/exceeds 10/);
    expect(typeProblem(attribute('Author', 'rating'), Number.NaN, 10)).to.match(/finite number/);
    expect(typeProblem(attribute('Author', 'books'), 2 ** 53, 10)).to.match(/safe integer/);
    expect(typeProblem(attribute('Author', 'active'), 'yes', 10)).to.match(/boolean/);
    expect(typeProblem(attribute('Book', 'genre'), 'poetry', 10)).to.equal(undefined);
    expect(typeProblem(attribute('Book', 'author'), 'a b', 10)).to.match(/entity id/);
    for (const name of ['name', 'rating', 'books', 'active', 'born']) expect(typeProblem(attribute('Author', name), null, 10)).to.equal(undefined);
  });

  it('accepts ISO dates only', () => {
    for (const ok of ['2024-05-01', '2024-05-01T08:00Z', '2024-05-01T08:00:00Z', '2024-05-01T08:00:00.123Z']) expect(isIsoDate(ok), ok).to.equal(true);
    for (const bad of ['2024-5-1', '2024-05-01T08:00:00', '2024-13-01', 'May 1, 2024', 20240501]) expect(isIsoDate(bad), String(bad)).to.equal(false);
  });

  it('names a pattern in words where the declaration gives them, and refuses words without a pattern', () => {
    const schema = defineSchema({
      concepts: { Member: { attributes: { code: { type: 'string', pattern: '^[A-Z]{3}$', format: 'three capital letters' } } } },
    });
    const code = schema.concepts.get('Member')!.attributes.get('code')!;
    expect(code.format).to.equal('three capital letters');
    expect(ruleViolation(code, 'abc')).to.deep.equal({ rule: 'pattern', detail: '"abc" is not three capital letters' });
    expect(ruleViolation(code, 'ABC')).to.equal(undefined);
    expect(() => defineSchema({ concepts: { M: { attributes: { code: { type: 'string', format: 'words' } } } } })).to.throw(/format describes a pattern/);
  });

  it('checks required, min, max and pattern', () => {
    expect(ruleViolation(attribute('Author', 'name'), null)?.rule).to.equal('required');
    expect(ruleViolation(attribute('Author', 'name'), '')?.rule).to.equal('min');
    expect(ruleViolation(attribute('Author', 'rating'), 5.5)?.rule).to.equal('max');
    expect(ruleViolation(attribute('Author', 'email'), 'nope')?.rule).to.equal('pattern');
    expect(ruleViolation(attribute('Author', 'email'), 'a@b')).to.equal(undefined);
  });
});
